/**
 * Pre-flight checks of apply (spec §6): refuse, changing nothing, anything that is
 * not exactly the plan that was approved, for this target, still fresh. Each refusal
 * says what is wrong and what to do, because the person reading it is usually
 * looking at a failed CI job.
 *
 * Order matters for the message: integrity first (a tampered plan is reported as
 * tampered, not as "expired" or "unapproved"), then signature, then target and
 * config, then expiry, then approval.
 */
import { existsSync } from 'node:fs';
import { OwnersyncError, RefusedError } from '../errors.js';
import type { EffectiveConfig } from '../config/types.js';
import { tamperedMessage, verifyIntegrity } from '../plan/digest.js';
import { signatureRefusal } from '../plan/signature-check.js';
import { sshVerifyDigest } from '../plan/ssh-signature.js';
import type { Approval, PlanFile } from '../plan/types.js';

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
  /** Path of an allowed-signers file: only approvals with an SSH signature that verifies against it count. */
  allowedSigners?: string;
  /** Name of the plan file in messages. @default 'plan.yaml' */
  planPath?: string;
}

export interface VerifyPlanResult {
  /** Approvals carrying the plan's digest (and, with allowedSigners, a verified SSH signature). */
  approvals: Approval[];
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

function normUrl(url: string): string {
  return url.trim().replace(/\/+$/, '').toLowerCase();
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
  if (normUrl(planUrl) !== normUrl(cfgUrl)) mismatches.push(`HelloID ${planUrl} (the configuration points to ${cfgUrl})`);
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

  // 4. Expiry.
  const expires = Date.parse(plan.expiresAt);
  if (!(options.now.getTime() < expires)) {
    const validFor = formatDuration(expires - Date.parse(plan.createdAt));
    refuse(
      `${file} expired at ${plan.expiresAt} (planned at ${plan.createdAt}, valid for ${validFor}); HelloID may have changed since. ` +
        `Run \`ownersync plan\` again and have the new plan approved.`,
    );
  }

  // 5. Approval.
  const forDigest = plan.approvals.filter((a) => a.digest === plan.digest);
  let approvals = forDigest;
  const sshProblems: string[] = [];
  if (options.allowedSigners !== undefined && forDigest.length > 0) {
    if (!existsSync(options.allowedSigners)) {
      throw new OwnersyncError(`${options.allowedSigners}: allowed-signers file not found (needed to verify SSH-signed approvals)`);
    }
    approvals = forDigest.filter((a) => {
      if (!a.sshSignature) {
        sshProblems.push(`${a.by}: not SSH-signed`);
        return false;
      }
      const res = sshVerifyDigest(plan.digest, a.sshSignature, a.by, options.allowedSigners!);
      if (!res.ok) sshProblems.push(`${a.by}: ${res.reason ?? 'signature does not verify'}`);
      return res.ok;
    });
  }
  if (approvals.length === 0 && !options.autoApproved) {
    const how =
      `Have it reviewed and approved (\`ownersync approve ${file} --by <name>\`), ` + `or run apply interactively and confirm, or pass --auto-approve.`;
    if (sshProblems.length > 0) {
      refuse(
        `${file} has no approval with an SSH signature that verifies against ${options.allowedSigners} ` +
          `(${sshProblems.join('; ')}). Approve it with an SSH key whose principal is listed there (the approver's --by name).`,
      );
    }
    if (plan.approvals.length === 0) refuse(`${file} has no approval. ${how}`);
    const n = plan.approvals.length;
    refuse(
      `${file} has no approval for its digest ${plan.digest} (${n === 1 ? 'its approval is' : `its ${n} approvals are`} for ` +
        `another digest, i.e. for a different version of the plan). ${how}`,
    );
  }
  return { approvals };
}
