/**
 * The apply use case the `apply` command calls: read → verify → lock → drift check →
 * (already applied? stop) → confirm → execute → receipt → unlock. No console output
 * here; the command renders the events and the result.
 */
import { RefusedError } from '../errors.js';
import type { EffectiveConfig } from '../config/types.js';
import type { HelloIdWriteApi } from '../helloid/types.js';
import type { Approval, PlanFile } from '../plan/types.js';
import { readPlanRefusingTampered } from '../plan/plan-file.js';
import { checkDrift, driftRefusal } from './drift.js';
import { executePlan, type ExecuteProgress } from './execute.js';
import { readJournal } from './journal.js';
import { acquireLock } from './lock.js';
import { journalPathFor, lockPathFor, receiptPathFor } from './paths.js';
import type { DriftReport, Receipt } from './types.js';
import { verifyPlan } from './verify.js';

export type ApplyEvent =
  | { type: 'verified'; plan: PlanFile; approvals: Approval[]; autoApproved: boolean }
  | { type: 'drift'; report: DriftReport }
  | { type: 'progress'; progress: ExecuteProgress }
  | { type: 'finished'; receipt: Receipt };

export interface ApplyPlanOptions {
  planPath: string;
  config: EffectiveConfig;
  configDigest: string;
  api: HelloIdWriteApi;
  /** @default () => new Date() */
  now?: () => Date;
  /** OWNERSYNC_SIGNING_KEY, when set. */
  signingKey?: string;
  /** `--auto-approve`: no recorded approval needed. */
  autoApprove: boolean;
  /**
   * Interactive confirmation, asked (after the drift check, holding the lock) only
   * when no recorded approval carries the digest and autoApprove is false.
   */
  confirm?: (ctx: { plan: PlanFile; drift: DriftReport }) => Promise<boolean>;
  /** Allowed-signers file: only SSH-signed approvals verifying against it count. */
  allowedSigners?: string;
  /** @default config.apply.concurrency */
  concurrency?: number;
  onEvent?: (event: ApplyEvent) => void;
}

export interface ApplyResult {
  status: 'applied' | 'already-applied' | 'partial';
  /** 0, or 4 when some writes failed. */
  exitCode: 0 | 4;
  plan: PlanFile;
  drift: DriftReport;
  /** Absent for already-applied (nothing was executed, and an earlier receipt is kept). */
  receipt?: Receipt;
  receiptPath?: string;
  journalPath: string;
  /** The recorded approvals that authorised this apply (empty when auto-approved or confirmed). */
  approvals: Approval[];
}

export async function applyPlan(options: ApplyPlanOptions): Promise<ApplyResult> {
  const now = options.now ?? (() => new Date());
  const emit = options.onEvent ?? ((): void => {});
  const file = options.planPath;
  const journalPath = journalPathFor(file);
  const receiptPath = receiptPathFor(file);

  // A hand-edited plan is "tampered" (exit 3) even when the edit also broke its consistency.
  const plan = readPlanRefusingTampered(file, 'refusing to apply');
  const { approvals } = verifyPlan(plan, {
    config: options.config,
    configDigest: options.configDigest,
    now: now(),
    signingKey: options.signingKey,
    // An interactive "yes" is asked later; a missing approval is not yet a refusal.
    autoApproved: options.autoApprove || options.confirm !== undefined,
    allowedSigners: options.allowedSigners,
    planPath: file,
  });
  const needsConfirmation = approvals.length === 0 && !options.autoApprove;
  emit({ type: 'verified', plan, approvals, autoApproved: options.autoApprove });

  const lock = acquireLock(lockPathFor(file), { now, digest: plan.digest });
  try {
    const concurrency = options.concurrency ?? options.config.apply.concurrency;
    const journal = readJournal(journalPath, plan.digest);
    const drift = await checkDrift(plan, options.api, { journal, concurrency });
    emit({ type: 'drift', report: drift });
    if (drift.status === 'drifted') throw driftRefusal(plan, drift, file);
    if (drift.status === 'already-applied') {
      return { status: 'already-applied', exitCode: 0, plan, drift, journalPath, approvals };
    }

    if (needsConfirmation) {
      const yes = options.confirm ? await options.confirm({ plan, drift }) : false;
      if (!yes) throw new RefusedError(`apply cancelled: ${file} was not confirmed. Nothing was changed.`);
    }

    const currentMembers = new Map(drift.perGroup.map((g) => [g.groupGuid, g.currentMembers] as const));
    const receipt = await executePlan(plan, options.api, {
      concurrency,
      journalPath,
      receiptPath,
      now,
      currentMembers,
      onProgress: (progress) => emit({ type: 'progress', progress }),
    });
    emit({ type: 'finished', receipt });
    return { status: receipt.status, exitCode: receipt.exitCode, plan, drift, receipt, receiptPath, journalPath, approvals };
  } finally {
    lock.release();
  }
}
