/**
 * Build the plan from core's diff. Pure: no I/O, no clock (the caller passes `now`),
 * no environment. The plan embeds what it was computed from — target, config digest,
 * the member sets observed — so apply can later tell "stale" from "ready".
 */
import { OwnersyncError, RefusedError } from '../errors.js';
import type { DiffResult, LimitViolation, Warning } from '../core/types.js';
import type { EffectiveConfig } from '../config/types.js';
import { computeDigest } from './digest.js';
import { planProblems } from './validate.js';
import { PLAN_FORMAT_VERSION, type PlanBody, type PlanFile, type PlanOverride } from './types.js';

export interface BuildPlanInput {
  diff: DiffResult;
  config: EffectiveConfig;
  /** sha256:<hex> of the effective config, secrets excluded (from the config module). */
  configDigest: string;
  /** ownersync's version, recorded in the plan. */
  toolVersion: string;
  now: Date;
  /** `--override-limits`: let a plan that breaks the limits through, recording the violations. */
  overrideLimits: boolean;
  /** Unified diff of the desired state against the previous one, when known. */
  exchangeChanges?: string;
}

/** The message of the refusal when limits are broken and not overridden (exit 3). */
export function limitsRefusalMessage(violations: DiffResult['limitViolations']): string {
  return [
    'plan refused: the changes break the removal safety limits:',
    ...violations.map((v) => `  - ${v.message}`),
    'Check the removals (a broken mailbox filter or an incomplete read can look like mass removal).',
    'If they are intended, run `ownersync plan --override-limits`; the override is recorded in the plan for the reviewer.',
  ].join('\n');
}

/**
 * Build a PlanFile (unsigned, unapproved) from a diff.
 * Throws RefusedError when the diff breaks the limits and `overrideLimits` is false,
 * so that no plan with an unrecorded limit violation can exist.
 */
export function buildPlan(input: BuildPlanInput): PlanFile {
  const { diff, config, now } = input;
  if (diff.limitViolations.length > 0 && !input.overrideLimits) throw new RefusedError(limitsRefusalMessage(diff.limitViolations));

  const affected = new Set(diff.changes.map((c) => c.groupGuid.toLowerCase()));
  const overrides: PlanOverride[] =
    input.overrideLimits && diff.limitViolations.length > 0
      ? [
          {
            kind: 'limits',
            violations: diff.limitViolations.map((v) => {
              const out: LimitViolation = { rule: v.rule, message: v.message };
              if (v.groupGuid !== undefined) out.groupGuid = v.groupGuid;
              return out;
            }),
          },
        ]
      : [];

  const target: PlanBody['target'] = {
    helloidBaseUrl: config.helloid.baseUrl.replace(/\/+$/, ''),
    exchangeTenantId: config.exchange.tenantId,
  };
  if (config.exchange.organization) target.exchangeOrganization = config.exchange.organization;

  const body: PlanBody = {
    formatVersion: PLAN_FORMAT_VERSION,
    tool: { name: 'ownersync', version: input.toolVersion },
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + config.plan.expiresAfterMs).toISOString(),
    configDigest: input.configDigest,
    target,
    summary: {
      add: diff.changes.filter((c) => c.action === 'add').length,
      remove: diff.changes.filter((c) => c.action === 'remove').length,
      kept: diff.kept.length,
    },
    groups: diff.groups
      .filter((g) => affected.has(g.groupGuid.toLowerCase()))
      .map((g) => ({
        groupGuid: g.groupGuid,
        groupName: g.groupName,
        mailbox: g.mailbox,
        observedMembers: [...g.observedMembers],
        plannedMembers: [...g.plannedMembers],
      })),
    // Fields are copied one by one so that nothing but the documented keys reaches the digest.
    changes: diff.changes.map((c) => ({
      action: c.action,
      groupGuid: c.groupGuid,
      groupName: c.groupName,
      userGuid: c.userGuid,
      userName: c.userName,
      mailbox: c.mailbox,
      reason: c.reason,
    })),
    kept: diff.kept.map((k) => ({
      groupGuid: k.groupGuid,
      groupName: k.groupName,
      userGuid: k.userGuid,
      userName: k.userName,
      mailbox: k.mailbox,
      reason: k.reason,
    })),
    warnings: diff.warnings.map((w) => {
      const out: Warning = { code: w.code, message: w.message };
      if (w.mailbox !== undefined) out.mailbox = w.mailbox;
      if (w.subject !== undefined) out.subject = w.subject;
      return out;
    }),
    overrides,
  };
  if (input.exchangeChanges) body.exchangeChanges = input.exchangeChanges;

  const plan: PlanFile = { ...body, digest: computeDigest(body), approvals: [] };
  // A plan that its own reader would reject is a bug upstream; fail here, not at apply.
  const problems = planProblems(plan);
  if (problems.length > 0) {
    throw new OwnersyncError(`internal error: the computed plan is inconsistent:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return plan;
}
