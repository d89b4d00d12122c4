/** The plan module's public API: build, digest, sign, read/write and approve plan files. */
export * from './types.js';
export { canonicalJson, CanonicalJsonError } from '../canonical-json.js';
export { computeDigest, planBody, verifyIntegrity, tamperedMessage, DIGEST_PATTERN, type IntegrityResult } from './digest.js';
export { sign, signPlan, verifySignature, SIGNING_KEY_ENV, SIGNATURE_PATTERN } from './signature.js';
export { signatureRefusal, type SignaturePolicy } from './signature-check.js';
export { buildPlan, limitsRefusalMessage, type BuildPlanInput } from './build.js';
export { readPlan, readPlanRefusingTampered, parsePlan, writePlan, serializePlan, orderedPlan, writeFileAtomic } from './plan-file.js';
export { planProblems, consistencyProblems, normGuid } from './validate.js';
export { schemaProblems, PLAN_SCHEMA_URL } from './schema.js';
export { approve, type ApproveOptions } from './approve.js';
export { sshSignDigest, sshVerifyDigest, SSH_NAMESPACE, type SshVerifyResult } from './ssh-signature.js';
export { approvalStatuses, describeApproval, type ApprovalKind, type ApprovalStatus } from './approval-status.js';
