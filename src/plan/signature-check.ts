/**
 * The signature policy shared by approve and apply: with a signing key configured,
 * a plan must carry a signature that verifies; with `apply.requireSignature`, a plan
 * must be signed at all (and then a key is needed to check it).
 */
import { registerSecret } from '../redact.js';
import { SIGNING_KEY_ENV, verifySignature } from './signature.js';
import type { PlanFile } from './types.js';

export interface SignaturePolicy {
  signingKey?: string;
  requireSignature: boolean;
}

/** Why the plan fails the signature policy, or undefined when it passes. */
export function signatureRefusal(plan: PlanFile, file: string, policy: SignaturePolicy): string | undefined {
  const key = policy.signingKey !== undefined && policy.signingKey.length > 0 ? policy.signingKey : undefined;
  if (key !== undefined) {
    registerSecret(key);
    if (plan.signature === undefined) {
      return (
        `${file} is not signed, but a signing key is configured (${SIGNING_KEY_ENV}), so only plans signed by a trusted ` +
        `\`ownersync plan\` are accepted. Run \`ownersync plan\` again with ${SIGNING_KEY_ENV} set.`
      );
    }
    if (!verifySignature(plan, key)) {
      return (
        `${file} has a signature that does not verify with the configured ${SIGNING_KEY_ENV} ` +
        `(signed with another key, or not by ownersync). Run \`ownersync plan\` again with the right ${SIGNING_KEY_ENV}.`
      );
    }
    return undefined;
  }
  if (policy.requireSignature) {
    if (plan.signature === undefined) {
      return (
        `${file} is not signed, and apply.requireSignature is true. ` +
        `Run \`ownersync plan\` again with ${SIGNING_KEY_ENV} set so the plan is signed.`
      );
    }
    return (
      `${file} is signed, but apply.requireSignature is true and ${SIGNING_KEY_ENV} is not set, so the signature cannot be checked. ` +
      `Set ${SIGNING_KEY_ENV} to the key the plan was signed with.`
    );
  }
  return undefined;
}
