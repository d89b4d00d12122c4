import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration, verifyPlan, type VerifyPlanOptions } from '../../src/apply/verify.js';
import { OwnersyncError, RefusedError } from '../../src/errors.js';
import { sign, signPlan } from '../../src/plan/signature.js';
import { sshSignDigest } from '../../src/plan/ssh-signature.js';
import type { PlanFile } from '../../src/plan/types.js';
import { computeDigest } from '../../src/plan/digest.js';
import { CONFIG_DIGEST, makeConfig, makePlan, NOW, TENANT, tempDir, U } from '../plan/helpers.js';

const KEY = 'verify-test-signing-key-123';
const LATER = new Date('2025-03-01T12:00:00.000Z');

function approved(plan: PlanFile, by = 'alice'): PlanFile {
  return { ...plan, approvals: [...plan.approvals, { by, at: LATER.toISOString(), digest: plan.digest }] };
}

function opts(patch: Partial<VerifyPlanOptions> = {}): VerifyPlanOptions {
  return { config: makeConfig(), configDigest: CONFIG_DIGEST, now: LATER, autoApproved: false, planPath: 'plan.yaml', ...patch };
}

function refusal(plan: PlanFile, o: VerifyPlanOptions): string {
  try {
    verifyPlan(plan, o);
  } catch (err) {
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).exitCode).toBe(3);
    return (err as Error).message;
  }
  throw new Error('verifyPlan did not refuse');
}

function tamper(plan: PlanFile): PlanFile {
  const t = structuredClone(plan);
  t.changes[1]!.userGuid = U(66);
  return t;
}

describe('verifyPlan', () => {
  it('accepts an approved, fresh, untampered plan and returns the approvals for its digest', () => {
    const plan = approved({ ...makePlan(), approvals: [{ by: 'old', at: LATER.toISOString(), digest: `sha256:${'0'.repeat(64)}` }] });
    expect(verifyPlan(plan, opts()).approvals.map((a) => a.by)).toEqual(['alice']);
  });

  it('refuses a tampered plan, saying both digests', () => {
    const plan = approved(makePlan());
    const t = tamper(plan);
    const msg = refusal(t, opts());
    expect(msg).toMatch(
      /^refusing to apply: plan\.yaml has been modified after it was planned \(digest sha256:[0-9a-f]{64} expected, content hashes to sha256:[0-9a-f]{64}\)\. Do not edit plan files; run `ownersync plan` again and have the new plan approved\.$/,
    );
    expect(msg).toContain(plan.digest);
  });

  it('reports tampering before anything else (expired, unapproved, wrong target)', () => {
    const t = tamper(makePlan());
    const msg = refusal(t, opts({ now: new Date('2030-01-01T00:00:00Z'), config: makeConfig({ baseUrl: 'https://other.helloid.com' }) }));
    expect(msg).toMatch(/has been modified after it was planned/);
  });

  it('signing key configured: refuses a missing or wrong signature, accepts the right one', () => {
    const plan = approved(makePlan());
    expect(refusal(plan, opts({ signingKey: KEY }))).toBe(
      'refusing to apply: plan.yaml is not signed, but a signing key is configured (OWNERSYNC_SIGNING_KEY), so only plans signed by a trusted `ownersync plan` are accepted. Run `ownersync plan` again with OWNERSYNC_SIGNING_KEY set.',
    );
    expect(refusal({ ...plan, signature: sign(plan, 'another-key-0000') }, opts({ signingKey: KEY }))).toBe(
      'refusing to apply: plan.yaml has a signature that does not verify with the configured OWNERSYNC_SIGNING_KEY (signed with another key, or not by ownersync). Run `ownersync plan` again with the right OWNERSYNC_SIGNING_KEY.',
    );
    expect(() => verifyPlan(signPlan(plan, KEY), opts({ signingKey: KEY }))).not.toThrow();
  });

  it('requireSignature: refuses an unsigned plan, and a signed one when no key can check it', () => {
    const plan = approved(makePlan());
    expect(refusal(plan, opts({ requireSignature: true }))).toBe(
      'refusing to apply: plan.yaml is not signed, and apply.requireSignature is true. Run `ownersync plan` again with OWNERSYNC_SIGNING_KEY set so the plan is signed.',
    );
    // Taken from the config when not passed.
    expect(refusal(plan, opts({ config: makeConfig({ requireSignature: true }) }))).toMatch(/apply\.requireSignature is true/);
    expect(refusal(signPlan(plan, KEY), opts({ requireSignature: true }))).toBe(
      'refusing to apply: plan.yaml is signed, but apply.requireSignature is true and OWNERSYNC_SIGNING_KEY is not set, so the signature cannot be checked. Set OWNERSYNC_SIGNING_KEY to the key the plan was signed with.',
    );
    expect(() => verifyPlan(signPlan(plan, KEY), opts({ requireSignature: true, signingKey: KEY }))).not.toThrow();
  });

  it('refuses another target, naming both values', () => {
    const plan = approved(makePlan());
    expect(refusal(plan, opts({ config: makeConfig({ baseUrl: 'https://fabrikam.helloid.com' }) }))).toBe(
      'refusing to apply: plan.yaml was planned for HelloID https://contoso.helloid.com (the configuration points to https://fabrikam.helloid.com). Apply it with the configuration it was planned with, or run `ownersync plan` against the configured target.',
    );
    const other = 'eeeeeeee-1111-4111-8111-111111111111';
    expect(refusal(plan, opts({ config: makeConfig({ tenantId: other }) }))).toContain(
      `plan.yaml was planned for Exchange tenant ${TENANT} (the configuration points to ${other})`,
    );
    expect(refusal(plan, opts({ config: makeConfig({ tenantId: other, baseUrl: 'https://x.helloid.com' }) }))).toContain(' and Exchange tenant ');
  });

  it('treats a trailing slash and case in the base URL or tenant as the same target', () => {
    const plan = approved(makePlan());
    expect(() => verifyPlan(plan, opts({ config: makeConfig({ baseUrl: 'https://Contoso.HelloID.com/', tenantId: TENANT.toUpperCase() }) }))).not.toThrow();
  });

  it('refuses a plan made with another configuration', () => {
    const plan = approved(makePlan());
    const now = `sha256:${'2'.repeat(64)}`;
    expect(refusal(plan, opts({ configDigest: now }))).toBe(
      `refusing to apply: the configuration changed since plan.yaml was planned (config digest ${CONFIG_DIGEST} in the plan, ${now} now), so the plan may not be what this configuration would produce. Run \`ownersync plan\` again with the current configuration.`,
    );
  });

  it('refuses an expired plan, saying when it expired', () => {
    const plan = approved(makePlan());
    const msg = refusal(plan, opts({ now: new Date('2025-03-04T10:00:00.000Z') }));
    expect(msg).toBe(
      'refusing to apply: plan.yaml expired at 2025-03-04T10:00:00.000Z (planned at 2025-03-01T10:00:00.000Z, valid for 3d); HelloID may have changed since. Run `ownersync plan` again and have the new plan approved.',
    );
    expect(() => verifyPlan(plan, opts({ now: new Date('2025-03-04T09:59:59.999Z') }))).not.toThrow();
  });

  it('refuses a plan without an approval for its digest, unless auto-approved', () => {
    const plan = makePlan();
    expect(refusal(plan, opts())).toBe(
      'refusing to apply: plan.yaml has no approval. Have it reviewed and approved (`ownersync approve plan.yaml --by <name>`), or run apply interactively and confirm, or pass --auto-approve.',
    );
    const stale = { ...plan, approvals: [{ by: 'alice', at: LATER.toISOString(), digest: `sha256:${'9'.repeat(64)}` }] };
    expect(refusal(stale, opts())).toBe(
      `refusing to apply: plan.yaml has no approval for its digest ${plan.digest} (its approval is for another digest, i.e. for a different version of the plan). Have it reviewed and approved (\`ownersync approve plan.yaml --by <name>\`), or run apply interactively and confirm, or pass --auto-approve.`,
    );
    expect(verifyPlan(plan, opts({ autoApproved: true })).approvals).toEqual([]);
  });

  it('checks in order: signature before target, target before config, config before expiry, expiry before approval', () => {
    const plan = makePlan();
    const all = opts({
      signingKey: KEY,
      config: makeConfig({ baseUrl: 'https://x.helloid.com' }),
      configDigest: `sha256:${'2'.repeat(64)}`,
      now: new Date('2030-01-01T00:00:00Z'),
    });
    expect(refusal(plan, all)).toMatch(/is not signed/);
    const signed = signPlan(plan, KEY);
    expect(refusal(signed, all)).toMatch(/was planned for HelloID/);
    expect(refusal(signed, { ...all, config: makeConfig() })).toMatch(/configuration changed/);
    expect(refusal(signed, { ...all, config: makeConfig(), configDigest: CONFIG_DIGEST })).toMatch(/expired at/);
    expect(refusal(signed, { ...all, config: makeConfig(), configDigest: CONFIG_DIGEST, now: LATER })).toMatch(/has no approval/);
  });

  /** A plan body edited and its digest recomputed, as a hostile committer can. */
  function rehashed(plan: PlanFile, edit: (p: PlanFile) => void): PlanFile {
    const p = structuredClone(plan);
    edit(p);
    return { ...p, digest: computeDigest(p) };
  }

  it("refuses an expiresAt beyond createdAt plus the configuration's plan.expiresAfter, even with a recomputed digest", () => {
    const plan = rehashed(makePlan(), (p) => (p.expiresAt = new Date(Date.parse(p.createdAt) + 30 * 86_400_000).toISOString()));
    const msg = refusal(approved(plan), opts());
    expect(msg).toBe(
      `refusing to apply: plan.yaml is valid until 2025-03-31T10:00:00.000Z, 30d after it was planned (2025-03-01T10:00:00.000Z), but the configuration's plan.expiresAfter allows 72h. Run \`ownersync plan\` again and have the new plan approved.`,
    );
    // Exactly the window is fine.
    const edge = rehashed(makePlan(), (p) => (p.expiresAt = new Date(Date.parse(p.createdAt) + 72 * 3_600_000).toISOString()));
    expect(verifyPlan(approved(edge), opts()).approvals).toHaveLength(1);
  });

  it('refuses a createdAt in the future (it would stretch the window), allowing 5 minutes of clock skew', () => {
    const future = (ms: number): PlanFile =>
      rehashed(makePlan(), (p) => {
        p.createdAt = new Date(LATER.getTime() + ms).toISOString();
        p.expiresAt = new Date(LATER.getTime() + ms + 3_600_000).toISOString();
      });
    expect(refusal(approved(future(3_600_000)), opts())).toContain('plan.yaml says it was planned at 2025-03-01T13:00:00.000Z, which is in the future (now 2025-03-01T12:00:00.000Z)');
    expect(verifyPlan(approved(future(4 * 60_000)), opts()).approvals).toHaveLength(1);
  });

  it("re-checks the configuration's limits; a violation counts only when the plan records an override for it", () => {
    const strict = makeConfig();
    strict.sync.limits.maxRemovals = 0;
    const msg = refusal(approved(makePlan()), opts({ config: strict }));
    expect(msg).toBe(
      [
        "refusing to apply: plan.yaml breaks the configuration's removal limits without a recorded override:",
        '  - 1 removal exceeds sync.limits.maxRemovals (0)',
        'Run `ownersync plan` again (with --override-limits if the removals are intended, so the reviewer sees the override).',
      ].join('\n'),
    );
    const overridden = rehashed(makePlan(), (p) => (p.overrides = [{ kind: 'limits', violations: [{ rule: 'maxRemovals', message: '1 removal exceeds sync.limits.maxRemovals (0)' }] }]));
    expect(verifyPlan(approved(overridden), opts({ config: strict })).approvals).toHaveLength(1);
    // An override of another rule does not cover it.
    const other = rehashed(makePlan(), (p) => (p.overrides = [{ kind: 'limits', violations: [{ rule: 'maxRemovalPercent', message: 'x' }] }]));
    expect(refusal(approved(other), opts({ config: strict }))).toContain('1 removal exceeds sync.limits.maxRemovals (0)');
  });

  it('does not re-check maxRemovalPercent: its base (every managed group) is not in the plan', () => {
    // 1 removal of the 3 members of the plan's affected groups is 33 % > 25 %, but the plan
    // was made against 4 members (Sales is unaffected and not in the plan): 25 %, allowed.
    const plan = makePlan();
    expect(plan.groups.map((g) => g.groupName)).toEqual(['Finance Resource Owners', 'HR Resource Owners']);
    expect(verifyPlan(approved(plan), opts()).approvals).toHaveLength(1);
  });

  it('formats durations', () => {
    expect(formatDuration(72 * 3_600_000)).toBe('3d');
    expect(formatDuration(90 * 60_000)).toBe('90m');
    expect(formatDuration(5 * 3_600_000)).toBe('5h');
    expect(formatDuration(45_000)).toBe('45s');
  });
});

const hasSshKeygen = spawnSync('sh', ['-c', 'command -v ssh-keygen'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasSshKeygen)('verifyPlan with an allowed-signers file', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  function setup(): { plan: PlanFile; alice: string; mallory: string; signers: string } {
    const alice = join(dir, 'alice');
    const mallory = join(dir, 'mallory');
    for (const k of [alice, mallory]) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
    const signers = join(dir, 'allowed_signers');
    writeFileSync(signers, `alice@contoso.com ${readFileSync(`${alice}.pub`, 'utf8').trim()}\n`);
    return { plan: makePlan(), alice, mallory, signers };
  }

  it('counts only approvals whose SSH signature verifies for their `by`', () => {
    const { plan, alice, mallory, signers } = setup();
    const good = { by: 'alice@contoso.com', at: LATER.toISOString(), digest: plan.digest, sshSignature: sshSignDigest(plan.digest, alice) };
    const forged = { by: 'alice@contoso.com', at: LATER.toISOString(), digest: plan.digest, sshSignature: sshSignDigest(plan.digest, mallory) };
    const unsigned = { by: 'bob', at: LATER.toISOString(), digest: plan.digest };

    expect(verifyPlan({ ...plan, approvals: [unsigned, good] }, opts({ allowedSigners: signers })).approvals).toEqual([good]);
    const msg = refusal({ ...plan, approvals: [unsigned, forged] }, opts({ allowedSigners: signers }));
    expect(msg).toMatch(new RegExp(`^refusing to apply: plan\\.yaml has no approval with an SSH signature that verifies against ${signers} \\(bob: not SSH-signed; alice@contoso\\.com: .+\\)`));
    // Without an allowed-signers file the SSH signature is not required.
    expect(verifyPlan({ ...plan, approvals: [unsigned] }, opts()).approvals).toEqual([unsigned]);
  });

  it('apply.allowedSigners in the config: a plain approval does not count, a verified SSH-signed one does; the flag overrides it', () => {
    const { plan, alice, signers } = setup();
    const config = makeConfig();
    config.apply.allowedSigners = signers;
    const plain = { by: 'alice@contoso.com', at: LATER.toISOString(), digest: plan.digest };
    const good = { ...plain, sshSignature: sshSignDigest(plan.digest, alice) };
    expect(refusal({ ...plan, approvals: [plain] }, opts({ config }))).toContain(`plan.yaml has no approval with an SSH signature that verifies against ${signers} (alice@contoso.com: not SSH-signed)`);
    const ok = verifyPlan({ ...plan, approvals: [plain, good] }, opts({ config }));
    expect(ok.approvals).toEqual([good]);
    expect(ok.allowedSigners).toBe(signers);
    expect(ok.approvalStatuses.map((s) => s.kind)).toEqual(['plain', 'ssh-verified']);
    const other = join(dir, 'other_signers');
    writeFileSync(other, `bob@contoso.com ${readFileSync(`${alice}.pub`, 'utf8').trim()}\n`);
    expect(refusal({ ...plan, approvals: [good] }, opts({ config, allowedSigners: other }))).toContain(`verifies against ${other}`);
  });

  it('a missing allowed-signers file is an error, not a silent pass', () => {
    const { plan, alice } = setup();
    const good = { by: 'alice@contoso.com', at: LATER.toISOString(), digest: plan.digest, sshSignature: sshSignDigest(plan.digest, alice) };
    expect(() => verifyPlan({ ...plan, approvals: [good] }, opts({ allowedSigners: join(dir, 'nope') }))).toThrow(OwnersyncError);
    expect(() => verifyPlan({ ...plan, approvals: [good] }, opts({ allowedSigners: join(dir, 'nope') }))).toThrow(/allowed-signers file not found/);
  });

  it('keeps NOW in the fixture consistent', () => {
    expect(NOW.getTime()).toBeLessThan(LATER.getTime());
  });
});
