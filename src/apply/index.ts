/** The apply module's public API: verification, live checks, drift check, execution with journal and lock. */
export * from './types.js';
export { verifyPlan, formatDuration, type VerifyPlanOptions, type VerifyPlanResult } from './verify.js';
export { classifyGroup, driftReport, driftRefusal } from './drift.js';
export { readLiveState, displayProblems, displayRefusal, type LiveState } from './live-check.js';
export { executePlan, type ExecuteOptions, type ExecuteProgress } from './execute.js';
export { readJournal, JournalWriter, journalKey, settledChanges } from './journal.js';
export { acquireLock, pidIsAlive, type PlanLock, type LockInfo, type AcquireLockOptions } from './lock.js';
export { applyPlan, recordedDigest, type ApplyPlanOptions, type ApplyResult, type ApplyEvent } from './apply-plan.js';
export { journalPathFor, receiptPathFor, lockPathForTarget } from './paths.js';
export { runPool } from '../pool.js';
