/** The apply module's public API: verification, drift check, execution with journal and lock. */
export * from './types.js';
export { verifyPlan, formatDuration, type VerifyPlanOptions, type VerifyPlanResult } from './verify.js';
export { checkDrift, classifyGroup, driftRefusal, type CheckDriftOptions } from './drift.js';
export { executePlan, type ExecuteOptions, type ExecuteProgress } from './execute.js';
export { readJournal, JournalWriter, journalKey, settledChanges, attemptedChanges } from './journal.js';
export { acquireLock, pidIsAlive, type PlanLock, type LockInfo, type AcquireLockOptions } from './lock.js';
export { applyPlan, type ApplyPlanOptions, type ApplyResult, type ApplyEvent } from './apply-plan.js';
export { journalPathFor, receiptPathFor, lockPathFor } from './paths.js';
export { runPool } from '../pool.js';
