/**
 * `ownersync approve`: record an approval bound to the plan's digest. The approval
 * sits outside the digest, so approving does not change what was approved, and an
 * approval of one digest never carries over to an edited or re-planned file.
 *
 * Approving checks the same things a reviewer would want checked before putting
 * their name on it: the content is what was planned (digest), it came from the
 * trusted plan job (signature, when a key is given), and it has not expired.
 */
import { RefusedError, UsageError } from '../errors.js';
import { tamperedMessage, verifyIntegrity } from './digest.js';
import { readPlanRefusingTampered, writePlan } from './plan-file.js';
import { signatureRefusal } from './signature-check.js';
import { sshSignDigest } from './ssh-signature.js';
import type { Approval, PlanFile } from './types.js';

export interface ApproveOptions {
  /** Who approves (with SSH signing: the principal in the allowed-signers file). */
  by: string;
  comment?: string;
  at: Date;
  /** OWNERSYNC_SIGNING_KEY, when set: the plan's HMAC signature must verify. */
  signingKey?: string;
  /** Sign the approval with this SSH key (`ssh-keygen -Y sign`). */
  sshSign?: { keyPath: string };
}

/** Append an approval to the plan file at `planPath` and write it back; returns the updated plan. */
export function approve(planPath: string, options: ApproveOptions): PlanFile {
  const by = options.by.trim();
  if (by.length === 0) throw new UsageError('approve: --by must name who approves (it must not be empty)');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(by)) throw new UsageError('approve: --by must be a single line without control characters');

  const plan = readPlanRefusingTampered(planPath, 'refusing to approve');
  const integrity = verifyIntegrity(plan);
  if (!integrity.ok) throw new RefusedError(`refusing to approve: ${tamperedMessage(planPath, integrity)}`);

  const sigProblem = signatureRefusal(plan, planPath, { signingKey: options.signingKey, requireSignature: false });
  if (sigProblem) throw new RefusedError(`refusing to approve: ${sigProblem}`);

  if (options.at.getTime() >= Date.parse(plan.expiresAt)) {
    throw new RefusedError(
      `refusing to approve: ${planPath} expired at ${plan.expiresAt} (created ${plan.createdAt}); apply would refuse it. Run \`ownersync plan\` again and approve the new plan.`,
    );
  }

  const approval: Approval = { by, at: options.at.toISOString(), digest: plan.digest };
  if (options.comment !== undefined && options.comment.length > 0) approval.comment = options.comment;
  if (options.sshSign) approval.sshSignature = sshSignDigest(plan.digest, options.sshSign.keyPath);

  const updated: PlanFile = { ...plan, approvals: [...plan.approvals, approval] };
  writePlan(planPath, updated);
  return updated;
}
