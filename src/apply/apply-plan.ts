/**
 * The apply use case the `apply` command calls: read → verify (integrity, signature,
 * target, expiry, limits, approvals) → lock the target → read HelloID live: display
 * check and drift check → (already applied? stop) → confirm, then read and check again
 * → execute → receipt → unlock. With `dryRun` every check runs, the lock is not taken
 * (a dry run must never block a real apply) and nothing is written. No console output
 * here; the command renders the events and the typed result.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { RefusedError } from '../errors.js';
import type { EffectiveConfig } from '../config/types.js';
import type { HelloIdWriteApi } from '../helloid/types.js';
import type { ApprovalStatus } from '../plan/approval-status.js';
import type { Approval, PlanFile } from '../plan/types.js';
import { readPlanRefusingTampered } from '../plan/plan-file.js';
import { runPool } from '../pool.js';
import { driftedUsers, driftRefusal, driftReport } from './drift.js';
import { executePlan, type ExecuteProgress } from './execute.js';
import { readJournal } from './journal.js';
import { displayRefusal, readLiveState, type LiveState } from './live-check.js';
import { acquireLock } from './lock.js';
import { journalPathFor, lockPathForTarget, receiptPathFor } from './paths.js';
import type { DriftReport, Receipt } from './types.js';
import { verifyPlan } from './verify.js';

export type ApplyEvent =
  | { type: 'verified'; plan: PlanFile; approvals: Approval[]; approvalStatuses: ApprovalStatus[]; allowedSigners?: string; autoApproved: boolean }
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
   * Interactive confirmation, asked (after the live checks, holding the lock) only when
   * no recorded approval counts and autoApprove is false. Never asked in a dry run.
   */
  confirm?: (ctx: { plan: PlanFile; drift: DriftReport }) => Promise<boolean>;
  /** `--allowed-signers`: overrides config.apply.allowedSigners. */
  allowedSigners?: string;
  /** `--dry-run`: every check, no lock, no write. */
  dryRun?: boolean;
  /** @default config.apply.concurrency */
  concurrency?: number;
  /** Directory of the target lock. @default os.tmpdir() */
  lockDir?: string;
  onEvent?: (event: ApplyEvent) => void;
}

export interface ApplyResult {
  /** `would-apply`: a dry run found nothing to refuse (and something to do). */
  status: 'applied' | 'already-applied' | 'partial' | 'would-apply';
  /** 0, or 4 when some writes failed. */
  exitCode: 0 | 4;
  dryRun: boolean;
  plan: PlanFile;
  drift: DriftReport;
  /** Absent for already-applied and dry runs (nothing was executed; an earlier receipt is kept). */
  receipt?: Receipt;
  receiptPath?: string;
  journalPath: string;
  /** The recorded approvals that authorised this apply (empty when auto-approved or confirmed). */
  approvals: Approval[];
  /** Every approval of the plan's digest, with what it is worth. */
  approvalStatuses: ApprovalStatus[];
  allowedSigners?: string;
}

export async function applyPlan(options: ApplyPlanOptions): Promise<ApplyResult> {
  const now = options.now ?? (() => new Date());
  const emit = options.onEvent ?? ((): void => {});
  const file = options.planPath;
  const dryRun = options.dryRun ?? false;
  const journalPath = journalPathFor(file);
  const concurrency = options.concurrency ?? options.config.apply.concurrency;

  // A hand-edited plan is "tampered" (exit 3) even when the edit also broke its consistency.
  const plan = readPlanRefusingTampered(file, 'refusing to apply');
  const verified = verifyPlan(plan, {
    config: options.config,
    configDigest: options.configDigest,
    now: now(),
    signingKey: options.signingKey,
    // An interactive "yes" is asked later; a missing approval is not yet a refusal. A dry run asks nothing.
    autoApproved: options.autoApprove || (!dryRun && options.confirm !== undefined),
    allowedSigners: options.allowedSigners,
    planPath: file,
  });
  const { approvals, approvalStatuses } = verified;
  const needsConfirmation = approvals.length === 0 && !options.autoApprove;
  emit({ type: 'verified', plan, approvals, approvalStatuses, autoApproved: options.autoApprove, ...(verified.allowedSigners ? { allowedSigners: verified.allowedSigners } : {}) });

  const result = (status: ApplyResult['status'], drift: DriftReport): ApplyResult => ({
    status,
    exitCode: 0,
    dryRun,
    plan,
    drift,
    journalPath,
    approvals,
    approvalStatuses,
    ...(verified.allowedSigners ? { allowedSigners: verified.allowedSigners } : {}),
  });
  const check = async (): Promise<{ live: LiveState; drift: DriftReport }> => {
    const checked = await checkLive(plan, options, concurrency, file);
    emit({ type: 'drift', report: checked.drift });
    return checked;
  };

  if (dryRun) {
    const { drift } = await check();
    return result(drift.status === 'already-applied' ? 'already-applied' : 'would-apply', drift);
  }

  const lock = acquireLock(lockPathForTarget(options.config.helloid.baseUrl, options.lockDir), {
    now,
    digest: plan.digest,
    target: options.config.helloid.baseUrl,
    plan: file,
  });
  try {
    let { live, drift } = await check();
    if (drift.status === 'already-applied') return result('already-applied', drift);

    if (needsConfirmation) {
      const yes = options.confirm ? await options.confirm({ plan, drift }) : false;
      if (!yes) throw new RefusedError(`apply cancelled: ${file} was not confirmed. Nothing was changed.`);
      // The answer may have taken minutes: what was confirmed must still be what HelloID shows.
      ({ live, drift } = await check());
      if (drift.status === 'already-applied') return result('already-applied', drift);
    }

    const currentMembers = new Map([...live.groups].map(([guid, g]) => [guid, g.members] as const));
    const receiptPath = receiptPathFor(file);
    const receipt = await executePlan(plan, options.api, {
      concurrency,
      journalPath,
      receiptPath,
      now,
      currentMembers,
      onProgress: (progress) => emit({ type: 'progress', progress }),
    });
    emit({ type: 'finished', receipt });
    return { ...result(receipt.status, drift), exitCode: receipt.exitCode, receipt, receiptPath };
  } finally {
    lock.release();
  }
}

/**
 * Read HelloID live and refuse (exit 3) when a group or user is not what the plan
 * names, or when a group drifted. Users a drift refusal names but the plan does not
 * are looked up, so the message names people rather than GUIDs.
 */
async function checkLive(plan: PlanFile, options: ApplyPlanOptions, concurrency: number, file: string): Promise<{ live: LiveState; drift: DriftReport }> {
  const live = await readLiveState(plan, options.api, concurrency);
  const display = displayRefusal(plan, live, options.config, file);
  if (display) throw display;
  const members = new Map([...live.groups].map(([guid, g]) => [guid, g.members] as const));
  const drift = driftReport(plan, members, readJournal(journalPathFor(file), plan.digest));
  if (drift.status !== 'drifted') return { live, drift };

  const inPlan = new Set([...plan.changes, ...plan.kept].map((c) => c.userGuid.toLowerCase()));
  const unknown = driftedUsers(drift).filter((u) => !inPlan.has(u));
  const names = new Map<string, string>();
  await runPool(unknown, concurrency, async (guid) => {
    const user = await options.api.getUser(guid).catch(() => undefined);
    if (user) names.set(guid, user.userName);
  });
  throw driftRefusal(plan, drift, file, names);
}

/**
 * The digest recorded in a plan file, read leniently, for the report of a refusal (the
 * file may be the very reason for it); '' when there is none.
 */
export function recordedDigest(file: string): string {
  try {
    const v = YAML.parse(readFileSync(file, 'utf8')) as { digest?: unknown } | null;
    return typeof v?.digest === 'string' ? v.digest : '';
  } catch {
    return '';
  }
}
