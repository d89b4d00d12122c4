import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeDigest, planBody, verifyIntegrity } from '../../src/plan/digest.js';
import { sign, signPlan, verifySignature } from '../../src/plan/signature.js';
import { clearSecrets, redact } from '../../src/redact.js';
import type { PlanFile } from '../../src/plan/types.js';
import { G, makePlan, U } from './helpers.js';

const KEY = 'test-signing-key-0123456789';

function clone(plan: PlanFile): PlanFile {
  return structuredClone(plan);
}

describe('computeDigest', () => {
  it('is sha256:<64 hex> and stable across calls and key order', () => {
    const plan = makePlan();
    expect(plan.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(computeDigest(plan)).toBe(plan.digest);
    const reordered = Object.fromEntries(Object.entries(plan).reverse()) as unknown as PlanFile;
    expect(computeDigest(reordered)).toBe(plan.digest);
    expect(computeDigest(makePlan())).toBe(plan.digest);
  });

  it('is computed over the body only', () => {
    const plan = makePlan();
    const body = planBody(plan);
    expect(Object.keys(body)).not.toContain('digest');
    expect(Object.keys(body)).not.toContain('approvals');
    expect(Object.keys(body)).not.toContain('signature');
    expect(computeDigest(body)).toBe(plan.digest);
  });

  const mutations: Array<[string, (p: PlanFile) => void]> = [
    ['a change action', (p) => (p.changes[1]!.action = 'remove')],
    ['a change user guid', (p) => (p.changes[0]!.userGuid = U(99))],
    ['a change group guid', (p) => (p.changes[0]!.groupGuid = G(99))],
    ['a change reason (display only, still reviewed)', (p) => (p.changes[0]!.reason += '.')],
    ['a group guid', (p) => (p.groups[0]!.groupGuid = G(98))],
    ['observed members', (p) => p.groups[0]!.observedMembers.push(U(77))],
    ['planned members', (p) => p.groups[0]!.plannedMembers.pop()],
    ['member order', (p) => p.groups[1]!.plannedMembers.reverse()],
    ['expiresAt', (p) => (p.expiresAt = '2099-01-01T00:00:00.000Z')],
    ['createdAt', (p) => (p.createdAt = '2025-03-01T10:00:00.001Z')],
    ['target base URL', (p) => (p.target.helloidBaseUrl = 'https://evil.helloid.com')],
    ['target tenant', (p) => (p.target.exchangeTenantId = G(5))],
    ['config digest', (p) => (p.configDigest = `sha256:${'2'.repeat(64)}`)],
    ['summary', (p) => (p.summary.add += 1)],
    ['a warning', (p) => (p.warnings[0]!.message = 'x')],
    ['overrides', (p) => p.overrides.push({ kind: 'limits', violations: [{ rule: 'maxRemovals', message: 'm' }] })],
    ['exchangeChanges', (p) => (p.exchangeChanges = '+x')],
    ['tool version', (p) => (p.tool.version = '9.9.9')],
    ['format version', (p) => (p.formatVersion = 2)],
    ['kept', (p) => p.kept.pop()],
  ];
  it.each(mutations)('changes when %s changes', (_name, mutate) => {
    const plan = makePlan();
    const tampered = clone(plan);
    mutate(tampered);
    expect(computeDigest(tampered)).not.toBe(plan.digest);
    expect(verifyIntegrity(tampered)).toEqual({ ok: false, expected: plan.digest, actual: computeDigest(tampered) });
  });

  it('does not change with approvals or signature', () => {
    const plan = makePlan();
    const approved = clone(plan);
    approved.approvals.push({ by: 'alice', at: '2025-03-01T11:00:00.000Z', digest: plan.digest, comment: 'ok' });
    approved.signature = sign(plan, KEY);
    expect(computeDigest(approved)).toBe(plan.digest);
    expect(verifyIntegrity(approved).ok).toBe(true);
  });

  it('changes when any single character of any body string changes (property)', () => {
    const plan = makePlan();
    const paths: Array<(string | number)[]> = [];
    const walk = (v: unknown, path: (string | number)[]): void => {
      if (typeof v === 'string') paths.push(path);
      else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    };
    walk(planBody(plan), []);
    fc.assert(
      fc.property(fc.nat(paths.length - 1), fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (pi, pos, ch) => {
        const path = paths[pi]!;
        const copy = clone(plan) as unknown as Record<string | number, unknown>;
        let parent = copy as Record<string | number, unknown>;
        for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
        const last = path[path.length - 1]!;
        const s = parent[last] as string;
        const at = s.length === 0 ? 0 : pos % s.length;
        const next = s.slice(0, at) + ch + s.slice(at + 1);
        fc.pre(next !== s);
        parent[last] = next;
        expect(computeDigest(copy as unknown as PlanFile)).not.toBe(plan.digest);
      }),
    );
  });
});

describe('HMAC signature', () => {
  afterEach(() => clearSecrets());

  it('signs the digest and verifies with the same key only', () => {
    const plan = signPlan(makePlan(), KEY);
    expect(plan.signature).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(verifySignature(plan, KEY)).toBe(true);
    expect(verifySignature(plan, `${KEY}x`)).toBe(false);
  });

  it('refuses a missing or malformed signature', () => {
    const plan = makePlan();
    expect(verifySignature(plan, KEY)).toBe(false);
    expect(verifySignature({ ...plan, signature: 'hmac-sha256:zz' }, KEY)).toBe(false);
    expect(verifySignature({ ...plan, signature: sign(plan, KEY).toUpperCase() }, KEY)).toBe(false);
  });

  it('refuses a tampered body even when the stored digest and signature are the originals', () => {
    const plan = signPlan(makePlan(), KEY);
    const tampered = clone(plan);
    tampered.changes[0]!.userGuid = U(42);
    expect(verifySignature(tampered, KEY)).toBe(false);
  });

  it('registers the key as a secret', () => {
    sign(makePlan(), KEY);
    expect(redact(`key is ${KEY}`)).toBe('key is ***');
  });

  it('rejects an empty key', () => {
    expect(() => sign(makePlan(), '')).toThrow(/OWNERSYNC_SIGNING_KEY/);
  });
});
