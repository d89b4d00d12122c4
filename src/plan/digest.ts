/**
 * The plan digest: sha256 over the canonical JSON of the plan body, i.e. the plan
 * without `digest`, `signature` and `approvals`. Approvals sit outside the digest so
 * that approving a plan does not change what was approved; the signature signs the
 * digest, so it cannot be inside it either.
 */
import { createHash } from 'node:crypto';
import { writeCanonicalJson } from '../canonical-json.js';
import type { PlanBody, PlanFile } from './types.js';
import { chunked } from '../chunked.js';

/** Keys of a PlanFile that are not part of the body. */
export const NON_BODY_KEYS = ['digest', 'signature', 'approvals'] as const;

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** The body of a plan: a shallow copy without digest, signature and approvals. */
export function planBody(plan: PlanBody | PlanFile): PlanBody {
  const copy: Record<string, unknown> = { ...plan };
  for (const k of NON_BODY_KEYS) delete copy[k];
  return copy as unknown as PlanBody;
}

/** `sha256:<hex>` of the canonical JSON of the body (digest/signature/approvals are ignored if present). */
export function computeDigest(body: PlanBody | PlanFile): string {
  // Hashed as it is written, in 64 KB pieces: the canonical text of a large plan is
  // tens of megabytes, and as one string (built from millions of pieces) it was the
  // largest allocation of `plan`.
  const hash = createHash('sha256');
  const collector = chunked((text) => hash.update(text, 'utf8'));
  writeCanonicalJson(planBody(body), collector.sink);
  collector.end();
  return `sha256:${hash.digest('hex')}`;
}

export interface IntegrityResult {
  ok: boolean;
  /** The digest recorded in the plan. */
  expected: string;
  /** The digest the content hashes to now. */
  actual: string;
}

/** Does the recorded digest match the content? Tamper detection; never throws for a well-formed plan. */
export function verifyIntegrity(plan: PlanFile): IntegrityResult {
  const actual = computeDigest(plan);
  return { ok: plan.digest === actual, expected: plan.digest, actual };
}

/** The refusal text for a plan whose content no longer hashes to its digest. */
export function tamperedMessage(file: string, integrity: IntegrityResult): string {
  return (
    `${file} has been modified after it was planned (digest ${integrity.expected} expected, ` +
    `content hashes to ${integrity.actual}). Do not edit plan files; run \`ownersync plan\` again and have the new plan approved.`
  );
}
