/**
 * HMAC-SHA256 plan signatures. The key comes from OWNERSYNC_SIGNING_KEY (the caller
 * reads the environment and passes it in). Where a digest proves the plan is
 * unchanged, the signature proves it was produced by someone holding the key — i.e.
 * by the trusted `ownersync plan` job, not hand-written and re-hashed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { OwnersyncError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { computeDigest } from './digest.js';
import type { PlanFile } from './types.js';

export const SIGNING_KEY_ENV = 'OWNERSYNC_SIGNING_KEY';
export const SIGNATURE_PATTERN = /^hmac-sha256:[0-9a-f]{64}$/;

function hmac(digest: string, key: string): string {
  if (key.length === 0) throw new OwnersyncError(`${SIGNING_KEY_ENV} is set but empty; set a non-empty key or unset it`);
  registerSecret(key);
  return `hmac-sha256:${createHmac('sha256', key).update(digest, 'utf8').digest('hex')}`;
}

/** `hmac-sha256:<hex>` over the plan's digest string. */
export function sign(plan: Pick<PlanFile, 'digest'>, key: string): string {
  return hmac(plan.digest, key);
}

/**
 * True when the plan carries a signature made with `key` over the digest its content
 * hashes to. Recomputing the digest (rather than trusting `plan.digest`) means a
 * tampered body fails here too, even when checked on its own.
 */
export function verifySignature(plan: PlanFile, key: string): boolean {
  if (typeof plan.signature !== 'string' || !SIGNATURE_PATTERN.test(plan.signature)) return false;
  const actual = computeDigest(plan);
  if (actual !== plan.digest) return false;
  const expected = Buffer.from(hmac(actual, key), 'utf8');
  const given = Buffer.from(plan.signature, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A copy of `plan` carrying its HMAC signature (the plan command calls this before writePlan). */
export function signPlan(plan: PlanFile, key: string): PlanFile {
  return { ...plan, signature: sign(plan, key) };
}
