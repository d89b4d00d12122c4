/**
 * Every refusal of apply (spec §6), through the built CLI against the emulator: exit
 * 3, a message that says what is wrong and what to do, and not one HelloID write —
 * HelloID membership is compared whole before and after. One emulator serves every
 * case: none of them may write, so a single write anywhere fails all of them.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Emulator } from '../../src/emulator/index.js';
import { approve as approveLib } from '../../src/plan/approve.js';
import { configYaml, DEMO_FIXTURE, helloidWrites, setup, type Env, type RunResult } from './harness.js';
import { applyOutputErrors, editPlanText, makePlan, otherGuid, readPlanDoc, replaceAfter, show, snapshot, waitFor, type Membership, type PlanDoc } from './apply-helpers.js';

const KEY = 'e2e-signing-key-one';
const OTHER_KEY = 'e2e-signing-key-two';

describe('apply refuses (exit 3, zero HelloID writes)', () => {
  let e: Env;
  let em2: Emulator;
  let plan: PlanDoc;
  let before: Membership;
  let before2: Membership;

  /** Writes a config file beside ownersync.yaml; returns its name. */
  const config = (name: string, text: string): string => {
    writeFileSync(e.file(name), text);
    return name;
  };

  beforeAll(async () => {
    e = await setup();
    em2 = await start({ fixture: DEMO_FIXTURE });
    before = snapshot(e.emulator);
    before2 = snapshot(em2);

    plan = await makePlan(e, 'plan.yaml');
    copyFileSync(e.file('plan.yaml'), e.file('unapproved.yaml'));
    const ok = await e.run(['approve', 'plan.yaml', '--by', 'Reviewer']);
    expect(ok.code, show(ok)).toBe(0);

    // A signed plan, made with requireSignature: true, approved with the key set.
    config('signed.yaml', configYaml(e.emulator, { requireSignature: true }));
    await makePlan(e, 'signed-plan.yaml', { config: 'signed.yaml', env: { OWNERSYNC_SIGNING_KEY: KEY } });
    const signedOk = await e.run(['approve', 'signed-plan.yaml', '--by', 'Reviewer'], { env: { OWNERSYNC_SIGNING_KEY: KEY } });
    expect(signedOk.code, show(signedOk)).toBe(0);

    // A plan that expires one second after it was made. It is approved in-process with
    // the approval time set to its creation time: going through the CLI would race the clock.
    config('short.yaml', configYaml(e.emulator, { expiresAfter: '1s' }));
    const short = await makePlan(e, 'short-plan.yaml', { config: 'short.yaml' });
    approveLib(e.file('short-plan.yaml'), { by: 'Reviewer', at: new Date(Date.parse(short.createdAt)) });
  }, 120_000);

  afterAll(async () => {
    await em2?.stop();
    await e?.stop();
  });

  /** Run apply and check the common refusal contract. */
  async function refused(args: string[], opts: { env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
    const r = await e.run(['apply', ...args], opts);
    expect(r.code, show(r)).toBe(3);
    expect(r.stderr).toMatch(/^Error: refusing to apply/m);
    expect(helloidWrites(e.emulator)).toBe(0);
    expect(helloidWrites(em2)).toBe(0);
    expect(snapshot(e.emulator)).toEqual(before);
    expect(snapshot(em2)).toEqual(before2);
    return r;
  }

  it('an unapproved plan (no TTY, no --auto-approve)', async () => {
    const r = await refused(['unapproved.yaml']);
    expect(r.stderr).toContain('unapproved.yaml has no approval');
    expect(r.stderr).toContain('ownersync approve unapproved.yaml --by <name>');
    expect(r.stderr).toContain('--auto-approve');
  });

  it('with --json, a refusal is an apply-output document with status "refused"', async () => {
    const r = await refused(['unapproved.yaml', '--json']);
    const out = JSON.parse(r.stdout) as { status: string; digest: string; changes: unknown[]; error: { message: string; exitCode: number } };
    expect(applyOutputErrors(out)).toBe('');
    expect(out.status).toBe('refused');
    expect(out.digest).toBe(plan.digest);
    expect(out.changes).toEqual([]);
    expect(out.error.exitCode).toBe(3);
    expect(out.error.message).toContain('unapproved.yaml has no approval');
  });

  describe('a plan with a changed byte in its body (after approval)', () => {
    const TAMPERED = /has been modified after it was planned \(digest sha256:[0-9a-f]{64} expected, content hashes to sha256:[0-9a-f]{64}\)/;
    const WHAT_TO_DO = /run `ownersync plan` again and have the new plan approved/;

    async function tampered(name: string, edit: (text: string) => string, opts: { config?: string } = {}): Promise<RunResult> {
      editPlanText(e.file('plan.yaml'), e.file(name), edit);
      // The copy still carries the approval; only the body changed.
      expect(readPlanDoc(e.file(name)).approvals).toHaveLength(1);
      const r = await refused([name, ...(opts.config ? ['-c', opts.config] : [])]);
      expect(r.stderr).toMatch(TAMPERED);
      expect(r.stderr).toMatch(WHAT_TO_DO);
      return r;
    }

    it("(a) a change's userGuid, edited on that one line", async () => {
      const c = plan.changes[0]!;
      await tampered('t-user-line.yaml', (t) => replaceAfter(t, '\nchanges:', `userGuid: ${c.userGuid}`, `userGuid: ${otherGuid(c.userGuid)}`));
    });

    it("(a) a change's userGuid, retargeted consistently to another real user", async () => {
      // Swap the first add's user for the user of a remove in another group, everywhere:
      // the plan stays self-consistent (adds that user instead), only the digest tells.
      const add = plan.changes.find((c) => c.action === 'add')!;
      const group = plan.groups.find((g) => g.groupGuid === add.groupGuid)!;
      const other = plan.changes.find((c) => c.action === 'remove' && c.groupGuid !== add.groupGuid && !group.plannedMembers.includes(c.userGuid))!;
      await tampered('t-user-all.yaml', (t) => t.replaceAll(add.userGuid, other.userGuid));
    });

    it('(b) a groupGuid, retargeted consistently to another real group', async () => {
      const target = plan.groups[0]!;
      const planned = new Set(plan.groups.map((g) => g.groupGuid));
      const elsewhere = e.emulator.state.helloid.groups.find((g) => !planned.has(g.groupGuid))!;
      await tampered('t-group.yaml', (t) => t.replaceAll(target.groupGuid, elsewhere.groupGuid));
    });

    it('(c) an observed member', async () => {
      const g = plan.groups.find((x) => x.observedMembers.length > 0)!;
      const m = g.observedMembers[0]!;
      await tampered('t-observed.yaml', (t) => replaceAfter(t, `groupGuid: ${g.groupGuid}\n    observedMembers:`, m, otherGuid(m)));
    });

    it('(c) an observed member, changed with the planned members of its group so the plan stays consistent', async () => {
      const g = plan.groups.find((x) => x.observedMembers.length > 0 && x.plannedMembers.includes(x.observedMembers[0]!))!;
      const m = g.observedMembers[0]!;
      await tampered('t-observed-both.yaml', (t) => {
        const start = t.indexOf(`groupGuid: ${g.groupGuid}\n    observedMembers:`);
        const end = t.indexOf('\n  - ', start);
        return t.slice(0, start) + t.slice(start, end).replaceAll(m, otherGuid(m)) + t.slice(end);
      });
    });

    it('(d) expiresAt, pushed a year later', async () => {
      const later = new Date(Date.parse(plan.expiresAt) + 365 * 86_400_000).toISOString();
      await tampered('t-expires.yaml', (t) => t.replace(`expiresAt: ${plan.expiresAt}`, `expiresAt: ${later}`));
    });

    it('(e) target.helloidBaseUrl, retargeted to another HelloID the configuration also points to', async () => {
      const cfg = config('other-helloid-tampered.yaml', configYaml(e.emulator).replace(`  baseUrl: ${e.emulator.url}`, `  baseUrl: ${em2.url}`));
      await tampered('t-target.yaml', (t) => t.replace(`helloidBaseUrl: ${e.emulator.url}`, `helloidBaseUrl: ${em2.url}`), { config: cfg });
    });

    it('(f) a reason text (display only, but inside the digest)', async () => {
      await tampered('t-reason.yaml', (t) => replaceAfter(t, '\nchanges:', /reason: (.*)/, 'reason: $1 (confirmed by the owner)'));
    });
  });

  it('an expired plan', async () => {
    const short = readPlanDoc(e.file('short-plan.yaml'));
    await waitFor(() => Date.now() > Date.parse(short.expiresAt) + 50, 'the short plan to expire');
    const r = await refused(['short-plan.yaml', '-c', 'short.yaml']);
    expect(r.stderr).toContain(`short-plan.yaml expired at ${short.expiresAt}`);
    expect(r.stderr).toContain('valid for 1s');
    expect(r.stderr).toContain('Run `ownersync plan` again and have the new plan approved.');
  });

  it('a plan for another HelloID', async () => {
    const cfg = config('other-helloid.yaml', configYaml(e.emulator).replace(`  baseUrl: ${e.emulator.url}`, `  baseUrl: ${em2.url}`));
    const r = await refused(['plan.yaml', '-c', cfg]);
    expect(r.stderr).toContain(`was planned for HelloID ${e.emulator.url} (the configuration points to ${em2.url})`);
    expect(r.stderr).toContain('Apply it with the configuration it was planned with, or run `ownersync plan`');
  });

  it('a plan for another Exchange tenant', async () => {
    const otherTenant = '11111111-2222-4333-8444-555555555555';
    const cfg = config('other-tenant.yaml', configYaml(e.emulator).replace(`  tenantId: ${e.emulator.tenantId}`, `  tenantId: ${otherTenant}`));
    const r = await refused(['plan.yaml', '-c', cfg]);
    expect(r.stderr).toContain(`Exchange tenant ${e.emulator.tenantId} (the configuration points to ${otherTenant})`);
  });

  it('a plan made with another configuration', async () => {
    const cfg = config('other-settings.yaml', configYaml(e.emulator, { removeMembers: false }));
    const r = await refused(['plan.yaml', '-c', cfg]);
    expect(r.stderr).toContain('the configuration changed since plan.yaml was planned');
    expect(r.stderr).toContain('Run `ownersync plan` again with the current configuration.');
  });

  it('an unsigned plan when apply.requireSignature is true', async () => {
    // The signed plan with its signature line removed: the digest (and the approval) still match.
    editPlanText(e.file('signed-plan.yaml'), e.file('unsigned-plan.yaml'), (t) => t.replace(/^signature: .*\n/m, ''));
    const r = await refused(['unsigned-plan.yaml', '-c', 'signed.yaml']);
    expect(r.stderr).toContain('unsigned-plan.yaml is not signed, and apply.requireSignature is true');
    expect(r.stderr).toContain('Run `ownersync plan` again with OWNERSYNC_SIGNING_KEY set');
    // With a key configured, an unsigned plan is refused too.
    const withKey = await refused(['unsigned-plan.yaml', '-c', 'signed.yaml'], { env: { OWNERSYNC_SIGNING_KEY: KEY } });
    expect(withKey.stderr).toContain('unsigned-plan.yaml is not signed, but a signing key is configured');
  });

  it('a signed plan applied with a different signing key', async () => {
    const r = await refused(['signed-plan.yaml', '-c', 'signed.yaml'], { env: { OWNERSYNC_SIGNING_KEY: OTHER_KEY } });
    expect(r.stderr).toContain('signed-plan.yaml has a signature that does not verify with the configured OWNERSYNC_SIGNING_KEY');
    expect(r.stderr).toContain('Run `ownersync plan` again with the right OWNERSYNC_SIGNING_KEY.');
    expect(r.stderr + r.stdout).not.toContain(OTHER_KEY);
  });

  it('a signed plan with requireSignature but no key to check it', async () => {
    const r = await refused(['signed-plan.yaml', '-c', 'signed.yaml']);
    expect(r.stderr).toContain('apply.requireSignature is true and OWNERSYNC_SIGNING_KEY is not set');
  });

  // Last: it changes HelloID out of band (and puts it back).
  it('a plan whose groups changed in HelloID since planning ("drifted", groups listed)', async () => {
    const h = e.emulator.state.helloid;
    const grown = plan.groups[0]!;
    // A member the plan keeps, so that losing it is not the plan's own effect.
    const shrunk = plan.groups.find((g) => g.groupGuid !== grown.groupGuid && g.observedMembers.some((m) => g.plannedMembers.includes(m)))!;
    const gone = shrunk.observedMembers.find((m) => shrunk.plannedMembers.includes(m))!;
    const intruder = h.users.find((u) => !grown.observedMembers.includes(u.userGUID) && !grown.plannedMembers.includes(u.userGUID))!;
    expect(h.addMember(grown.groupGuid, intruder.userGUID)).toBe('added');
    expect(h.removeMember(shrunk.groupGuid, gone)).toBe('removed');
    const drifted = snapshot(e.emulator);
    try {
      const r = await e.run(['apply', 'plan.yaml']);
      expect(r.code, show(r)).toBe(3);
      expect(r.stderr).toContain('refusing to apply plan.yaml: HelloID changed since it was planned; 2 groups drifted');
      expect(r.stderr).toMatch(new RegExp(`${grown.groupName} \\(${grown.groupGuid}\\): added since planning: .*${intruder.userGUID}`));
      expect(r.stderr).toMatch(new RegExp(`${shrunk.groupName} \\(${shrunk.groupGuid}\\): removed since planning: .*${gone}`));
      expect(r.stderr).toContain('Run `ownersync plan` again to plan against the current HelloID state.');
      expect(helloidWrites(e.emulator)).toBe(0);
      expect(snapshot(e.emulator)).toEqual(drifted);
    } finally {
      h.removeMember(grown.groupGuid, intruder.userGUID);
      h.addMember(shrunk.groupGuid, gone);
    }
    expect(snapshot(e.emulator)).toEqual(before);
  });
});
