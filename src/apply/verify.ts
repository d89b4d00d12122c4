/**
 * Pre-flight checks of apply that need no HelloID read (spec §6): refuse, changing
 * nothing, anything that is not exactly the plan that was approved, for this target,
 * still fresh, within the configuration's policy. Each refusal
 * says what is wrong and what to do, because the person reading it is usually
 * looking at a failed CI job.
 *
 * Order matters for the message: integrity first (a tampered plan is reported as
 * tampered, not as "expired" or "unapproved"), then signature, then target and
 * config, then expiry (clock and the config's window), then limits, then approval.
 * What needs HelloID (names, users, drift) is live-check.ts and drift.ts.
 */
import { RefusedError } from '../errors.js';
import type { EffectiveConfig } from '../config/types.js';
import { checkLimits } from '../core/limits.js';
import type { LimitViolation } from '../core/types.js';
import { approvalStatuses, type ApprovalStatus } from '../plan/approval-status.js';
import { tamperedMessage, verifyIntegrity } from '../plan/digest.js';
import { signatureRefusal } from '../plan/signature-check.js';
import type { Approval, PlanFile } from '../plan/types.js';
import { normaliseTarget } from './paths.js';

/** How far in the future a plan's createdAt may lie (clock skew between the plan job and this machine). */
export const CLOCK_SKEW_MS = 5 * 60_000;

export interface VerifyPlanOptions {
  config: EffectiveConfig;
  /** Digest of the current effective config (secrets excluded). */
  configDigest: string;
  now: Date;
  /** OWNERSYNC_SIGNING_KEY, when set. */
  signingKey?: string;
  /** Refuse unsigned plans. @default config.apply.requireSignature */
  requireSignature?: boolean;
  /** `--auto-approve` or an interactive "yes" to come: no recorded approval needed. */
  autoApproved: boolean;
  /**
   * Path of an allowed-signers file: only approvals with an SSH signature that verifies
   * against it count. @default config.apply.allowedSigners (`--allowed-signers` overrides it)
   */
  allowedSigners?: string;
  /** Name of the plan file in messages. @default 'plan.yaml' */
  planPath?: string;
}

export interface VerifyPlanResult {
  /** Approvals that count: carrying the plan's digest (and, with allowedSigners, a verified SSH signature). */
  approvals: Approval[];
  /** Every approval carrying the plan's digest, with what it is worth (for display). */
  approvalStatuses: ApprovalStatus[];
  /** The allowed-signers file in force, if any. */
  allowedSigners?: string;
}

/** Human form of a duration in ms: 72h, 7d, 90m, 45s. */
export function formatDuration(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${Math.round(ms / 1000)}s`;
}

/** Throws RefusedError (exit 3) when the plan must not be applied; returns the approvals that count. */
export function verifyPlan(plan: PlanFile, options: VerifyPlanOptions): VerifyPlanResult {
  const file = options.planPath ?? 'plan.yaml';
  const refuse = (why: string): never => {
    throw new RefusedError(`refusing to apply: ${why}`);
  };

  // 1. Integrity.
  const integrity = verifyIntegrity(plan);
  if (!integrity.ok) refuse(tamperedMessage(file, integrity));

  // 2. Signature.
  const sig = signatureRefusal(plan, file, {
    signingKey: options.signingKey,
    requireSignature: options.requireSignature ?? options.config.apply.requireSignature,
  });
  if (sig) refuse(sig);

  // 3. Target, then config.
  const mismatches: string[] = [];
  const planUrl = plan.target.helloidBaseUrl;
  const cfgUrl = options.config.helloid.baseUrl;
  if (normaliseTarget(planUrl) !== normaliseTarget(cfgUrl)) mismatches.push(`HelloID ${planUrl} (the configuration points to ${cfgUrl})`);
  const planTenant = plan.target.exchangeTenantId;
  const cfgTenant = options.config.exchange.tenantId;
  if (planTenant.toLowerCase() !== cfgTenant.toLowerCase()) mismatches.push(`Exchange tenant ${planTenant} (the configuration points to ${cfgTenant})`);
  const planOrg = plan.target.exchangeOrganization;
  const cfgOrg = options.config.exchange.organization;
  if (planOrg && cfgOrg && planOrg.toLowerCase() !== cfgOrg.toLowerCase()) {
    mismatches.push(`Exchange organization ${planOrg} (the configuration points to ${cfgOrg})`);
  }
  if (mismatches.length > 0) {
    refuse(
      `${file} was planned for ${mismatches.join(' and ')}. ` +
        `Apply it with the configuration it was planned with, or run \`ownersync plan\` against the configured target.`,
    );
  }
  if (plan.configDigest !== options.configDigest) {
    refuse(
      `the configuration changed since ${file} was planned (config digest ${plan.configDigest} in the plan, ${options.configDigest} now), ` +
        `so the plan may not be what this configuration would produce. Run \`ownersync plan\` again with the current configuration.`,
    );
  }

  // 4. Expiry, by the clock and by the configuration's window.
  const expiry = expiryRefusal(plan, file, options.config, options.now);
  if (expiry) refuse(expiry);

  // 5. Limits, re-checked from the configuration (a recomputed digest proves nothing about them).
  const limits = limitsRefusal(plan, file, options.config);
  if (limits) refuse(limits);

  // 6. Approval.
  const allowedSigners = options.allowedSigners ?? options.config.apply.allowedSigners;
  const statuses = approvalStatuses(plan, allowedSigners);
  const approvals = statuses.filter((s) => allowedSigners === undefined || s.kind === 'ssh-verified').map((s) => s.approval);
  if (approvals.length === 0 && !options.autoApproved) refuse(approvalRefusal(plan, file, statuses, allowedSigners));
  return { approvals, approvalStatuses: statuses, ...(allowedSigners !== undefined ? { allowedSigners } : {}) };
}

/**
 * Expired, or valid for longer than the configuration allows. The plan's own dates are
 * data a committer can write: apply holds them to `plan.expiresAfter` of the config it
 * runs with, and refuses a createdAt in the future (which would stretch the window).
 */
function expiryRefusal(plan: PlanFile, file: string, config: EffectiveConfig, now: Date): string | undefined {
  const again = 'Run `ownersync plan` again and have the new plan approved.';
  const created = Date.parse(plan.createdAt);
  const expires = Date.parse(plan.expiresAt);
  if (!(now.getTime() < expires)) {
    const validFor = formatDuration(expires - created);
    return `${file} expired at ${plan.expiresAt} (planned at ${plan.createdAt}, valid for ${validFor}); HelloID may have changed since. ${again}`;
  }
  if (created > now.getTime() + CLOCK_SKEW_MS) {
    return `${file} says it was planned at ${plan.createdAt}, which is in the future (now ${now.toISOString()}); a plan's dates cannot be trusted then. ${again}`;
  }
  if (expires - created > config.plan.expiresAfterMs) {
    return (
      `${file} is valid until ${plan.expiresAt}, ${formatDuration(expires - created)} after it was planned (${plan.createdAt}), ` +
      `but the configuration's plan.expiresAfter allows ${config.plan.expiresAfter}. ${again}`
    );
  }
  return undefined;
}

/**
 * The configuration's removal limits, re-checked on the plan's changes; a violation
 * counts only when the plan records an override for it (`plan --override-limits`,
 * shown to the reviewer). maxRemovalPercent is not re-checked: its base is the members
 * of every managed group, and the plan lists only the affected ones, so apply would
 * compute a larger percentage than plan did and refuse plans that are within the limit.
 * maxRemovals and allowEmptyingGroups need only the affected groups and are exact.
 */
function limitsRefusal(plan: PlanFile, file: string, config: EffectiveConfig): string | undefined {
  const overridden = new Set(plan.overrides.flatMap((o) => o.violations).map(violationKey));
  const unrecorded = checkLimits(plan.groups, plan.changes, config.sync.limits).filter(
    (v) => v.rule !== 'maxRemovalPercent' && !overridden.has(violationKey(v)),
  );
  if (unrecorded.length === 0) return undefined;
  return [
    `${file} breaks the configuration's removal limits without a recorded override:`,
    ...unrecorded.map((v) => `  - ${v.message}`),
    'Run `ownersync plan` again (with --override-limits if the removals are intended, so the reviewer sees the override).',
  ].join('\n');
}

function violationKey(v: LimitViolation): string {
  return `${v.rule}/${(v.groupGuid ?? '').toLowerCase()}`;
}

function approvalRefusal(plan: PlanFile, file: string, statuses: ApprovalStatus[], allowedSigners: string | undefined): string {
  const how = `Have it reviewed and approved (\`ownersync approve ${file} --by <name>\`), or run apply interactively and confirm, or pass --auto-approve.`;
  if (allowedSigners !== undefined && statuses.length > 0) {
    const problems = statuses.map((s) => `${s.approval.by}: ${s.kind === 'plain' ? 'not SSH-signed' : (s.reason ?? 'signature does not verify')}`);
    return (
      `${file} has no approval with an SSH signature that verifies against ${allowedSigners} (${problems.join('; ')}). ` +
      `Approve it with an SSH key whose principal is listed there (the approver's --by name).`
    );
  }
  if (plan.approvals.length === 0) return `${file} has no approval. ${how}`;
  const n = plan.approvals.length;
  return (
    `${file} has no approval for its digest ${plan.digest} (${n === 1 ? 'its approval is' : `its ${n} approvals are`} for ` +
    `another digest, i.e. for a different version of the plan). ${how}`
  );
}
