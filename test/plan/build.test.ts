import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build.js';
import { computeDigest } from '../../src/plan/digest.js';
import { planProblems } from '../../src/plan/validate.js';
import { OwnersyncError, RefusedError } from '../../src/errors.js';
import { CONFIG_DIGEST, G, makeConfig, makeDiff, makePlan, NOW, TENANT, U } from './helpers.js';

describe('buildPlan', () => {
  it('records what the plan was computed from', () => {
    const plan = makePlan();
    expect(plan.formatVersion).toBe(1);
    expect(plan.tool).toEqual({ name: 'ownersync', version: '0.1.0' });
    expect(plan.createdAt).toBe('2025-03-01T10:00:00.000Z');
    expect(plan.expiresAt).toBe('2025-03-04T10:00:00.000Z');
    expect(plan.configDigest).toBe(CONFIG_DIGEST);
    expect(plan.target).toEqual({ helloidBaseUrl: 'https://contoso.helloid.com', exchangeTenantId: TENANT });
    expect(plan.approvals).toEqual([]);
    expect(plan.signature).toBeUndefined();
    expect(plan.digest).toBe(computeDigest(plan));
    expect(planProblems(plan)).toEqual([]);
  });

  it('lists only affected groups, in diff order, without core-only fields', () => {
    const plan = makePlan();
    expect(plan.groups.map((g) => g.groupGuid)).toEqual([G(1), G(2)]);
    expect(plan.groups[0]).toEqual({
      groupGuid: G(1),
      groupName: 'Finance Resource Owners',
      mailbox: 'finance@contoso.com',
      observedMembers: [U(1), U(2)],
      plannedMembers: [U(1), U(3)],
    });
  });

  it('counts the summary', () => {
    expect(makePlan().summary).toEqual({ add: 3, remove: 1, kept: 1 });
  });

  it('strips a trailing slash from the base URL and records the organization', () => {
    const plan = buildPlan({
      diff: makeDiff(),
      config: makeConfig({ baseUrl: 'https://contoso.helloid.com/', organization: 'contoso.onmicrosoft.com' }),
      configDigest: CONFIG_DIGEST,
      toolVersion: '0.1.0',
      now: NOW,
      overrideLimits: false,
    });
    expect(plan.target.helloidBaseUrl).toBe('https://contoso.helloid.com');
    expect(plan.target.exchangeOrganization).toBe('contoso.onmicrosoft.com');
  });

  it('includes exchangeChanges only when given', () => {
    expect('exchangeChanges' in makePlan()).toBe(false);
    expect(makePlan({ exchangeChanges: '--- a\n+++ b\n' }).exchangeChanges).toBe('--- a\n+++ b\n');
  });

  it('is deterministic and does not alias the diff', () => {
    const diff = makeDiff();
    const input = { diff, config: makeConfig(), configDigest: CONFIG_DIGEST, toolVersion: '0.1.0', now: NOW, overrideLimits: false };
    const a = buildPlan(input);
    const b = buildPlan(input);
    expect(a).toEqual(b);
    a.groups[0]!.observedMembers.push('x');
    a.changes[0]!.reason = 'changed';
    expect(diff.groups[0]!.observedMembers).toEqual([U(1), U(2)]);
    expect(diff.changes[0]!.reason).not.toBe('changed');
  });

  it('refuses limit violations unless overridden, and records the override', () => {
    const diff = makeDiff();
    diff.limitViolations = [{ rule: 'maxRemovals', message: '1 removal exceeds maxRemovals 0' }];
    const input = { diff, config: makeConfig(), configDigest: CONFIG_DIGEST, toolVersion: '0.1.0', now: NOW };
    let err: unknown;
    try {
      buildPlan({ ...input, overrideLimits: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).exitCode).toBe(3);
    expect((err as Error).message).toContain('1 removal exceeds maxRemovals 0');
    expect((err as Error).message).toContain('--override-limits');

    const plan = buildPlan({ ...input, overrideLimits: true });
    expect(plan.overrides).toEqual([{ kind: 'limits', violations: [{ rule: 'maxRemovals', message: '1 removal exceeds maxRemovals 0' }] }]);
    expect(makePlan().overrides).toEqual([]);
  });

  it('fails loudly on an inconsistent diff (a bug upstream)', () => {
    const diff = makeDiff();
    diff.groups[0]!.plannedMembers = [U(1)];
    expect(() =>
      buildPlan({ diff, config: makeConfig(), configDigest: CONFIG_DIGEST, toolVersion: '0.1.0', now: NOW, overrideLimits: false }),
    ).toThrow(OwnersyncError);
  });

  it('produces an empty plan for an empty diff', () => {
    const diff = makeDiff();
    diff.changes = [];
    diff.kept = [];
    const plan = buildPlan({ diff, config: makeConfig(), configDigest: CONFIG_DIGEST, toolVersion: '0.1.0', now: NOW, overrideLimits: false });
    expect(plan.groups).toEqual([]);
    expect(plan.summary).toEqual({ add: 0, remove: 0, kept: 0 });
  });
});

describe('schemas/plan.schema.json', () => {
  it('is a strict-mode valid JSON Schema that accepts a built, signed, approved plan', async () => {
    const { readFileSync } = await import('node:fs');
    const { Ajv } = await import('ajv');
    const formats = (await import('ajv-formats')).default as unknown as { default?: (a: unknown) => void } & ((a: unknown) => void);
    const ajv = new Ajv({ strict: true, allErrors: true });
    (formats.default ?? formats)(ajv);
    const schema = JSON.parse(readFileSync(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8'));
    const validate = ajv.compile(schema);
    const { signPlan } = await import('../../src/plan/signature.js');
    const plan = signPlan(makePlan({ exchangeChanges: '+a\n' }), 'k'.repeat(32));
    plan.approvals.push({ by: 'alice', at: '2025-03-01T11:00:00Z', digest: plan.digest, comment: 'ok' });
    expect(validate(JSON.parse(JSON.stringify(plan))), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...plan, surprise: 1 })).toBe(false);
    expect(validate({ ...plan, target: { ...plan.target, exchangeTenantId: 'CCCCCCCC-1111-4111-8111-111111111111' } })).toBe(true);
    expect(validate({ ...plan, target: { ...plan.target, exchangeTenantId: 'cccccccc11114111811111111111111' } })).toBe(false);
    expect(validate({ ...plan, digest: `sha256:${'A'.repeat(64)}` })).toBe(false);
    expect(validate({ ...plan, createdAt: '2025-03-01 10:00' })).toBe(false);
  });
});
