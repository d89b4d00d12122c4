/**
 * What each approval of a plan is worth: SSH-signed and verified against an
 * allowed-signers file, SSH-signed but not verified (no file to check against, or the
 * signature does not verify for that principal), or a plain name anyone could have
 * typed. show, the Markdown summary and apply all say this per approval, and apply
 * counts only verified ones when an allowed-signers file is in force.
 */
import { existsSync } from 'node:fs';
import { OwnersyncError } from '../errors.js';
import { sshVerifyDigest } from './ssh-signature.js';
import type { Approval, PlanFile } from './types.js';

export type ApprovalKind = 'ssh-verified' | 'ssh-unverified' | 'plain';

export interface ApprovalStatus {
  approval: Approval;
  kind: ApprovalKind;
  /** For ssh-unverified: why (no allowed-signers file, or ssh-keygen's reason). */
  reason?: string;
}

/**
 * The approvals carrying the plan's digest, each classified. SSH signatures are checked
 * only when `allowedSigners` is given (ssh-keygen runs once per signed approval).
 * Throws OwnersyncError when the allowed-signers file is missing: a policy that cannot
 * be checked must not quietly pass or fail.
 */
export function approvalStatuses(plan: PlanFile, allowedSigners?: string): ApprovalStatus[] {
  const forDigest = plan.approvals.filter((a) => a.digest === plan.digest);
  if (allowedSigners !== undefined && forDigest.length > 0 && !existsSync(allowedSigners)) {
    throw new OwnersyncError(`${allowedSigners}: allowed-signers file not found (needed to verify SSH-signed approvals)`);
  }
  return forDigest.map((approval): ApprovalStatus => {
    if (!approval.sshSignature) return { approval, kind: 'plain' };
    if (allowedSigners === undefined) return { approval, kind: 'ssh-unverified', reason: 'no allowed-signers file to verify it against' };
    const res = sshVerifyDigest(plan.digest, approval.sshSignature, approval.by, allowedSigners);
    return res.ok ? { approval, kind: 'ssh-verified' } : { approval, kind: 'ssh-unverified', reason: res.reason ?? 'signature does not verify' };
  });
}

/** "alice (SSH-signed, verified)", "bob (SSH-signed, NOT verified: …)", "Jane Doe (plain name, not signed)". */
export function describeApproval(s: ApprovalStatus): string {
  switch (s.kind) {
    case 'ssh-verified':
      return `${s.approval.by} (SSH-signed, verified)`;
    case 'ssh-unverified':
      return `${s.approval.by} (SSH-signed, not verified: ${s.reason ?? 'unknown reason'})`;
    case 'plain':
      return `${s.approval.by} (plain name, not signed)`;
  }
}
