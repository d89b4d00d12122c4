/**
 * The `--json` shape of `plan` and `show` (schemas/output/plan-output.schema.json).
 * A superset of spec §4's minimum; stable field names are a public interface.
 */
import type { ApprovalKind } from '../../plan/approval-status.js';
import type { PlanFile } from '../../plan/types.js';

export interface PlanJsonOutput {
  formatVersion: number;
  digest: string;
  createdAt: string;
  expiresAt: string;
  target: PlanFile['target'];
  summary: PlanFile['summary'];
  changes: PlanFile['changes'];
  kept: PlanFile['kept'];
  warnings: PlanFile['warnings'];
  groups: PlanFile['groups'];
  overrides: PlanFile['overrides'];
  /** Unified diff of the desired state against the previous one, when there was one and it changed. */
  exchangeChanges?: string;
  approvals: PlanFile['approvals'];
  /** show: what each approval of the digest is worth. */
  approvalStatus?: Array<{ by: string; at: string; kind: ApprovalKind; reason?: string }>;
  signed: boolean;
  /** The body still hashes to `digest` (false: modified after planning; apply will refuse it). */
  intact: boolean;
  limitsExceeded?: boolean;
  planPath?: string;
  statePath?: string;
}

/**
 * `intact` is the caller's: `plan` has just built the plan (intact by construction) and
 * `show` has checked it once. Hashing a large plan costs about a second; do it once.
 */
export function planToJson(plan: PlanFile, extra: Pick<PlanJsonOutput, 'intact'> & Partial<Pick<PlanJsonOutput, 'planPath' | 'statePath' | 'limitsExceeded' | 'approvalStatus'>>): PlanJsonOutput {
  return {
    formatVersion: plan.formatVersion,
    digest: plan.digest,
    createdAt: plan.createdAt,
    expiresAt: plan.expiresAt,
    target: plan.target,
    summary: plan.summary,
    changes: plan.changes,
    kept: plan.kept,
    warnings: plan.warnings,
    groups: plan.groups,
    overrides: plan.overrides,
    ...(plan.exchangeChanges ? { exchangeChanges: plan.exchangeChanges } : {}),
    approvals: plan.approvals,
    signed: Boolean(plan.signature),
    ...extra,
  };
}
