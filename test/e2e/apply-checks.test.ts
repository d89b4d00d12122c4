/**
 * What the reviewer saw against what apply would write (spec §6, issue 13), through
 * the built CLI against the emulator. The plan body is data: a committer can edit it
 * and recompute its digest (with the same digest function ownersync uses), and a
 * reviewer approves the names they are shown. Apply must refuse every such plan, and
 * plans a change in HelloID made wrong, with exit 3 and not one HelloID write. Then
 * `apply --dry-run` (every check, no write) and `apply.allowedSigners` in the config.
 *
 * One emulator serves every case; only the last test writes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeDigest } from '../../src/plan/digest.js';
import { parsePlan, writePlan } from '../../src/plan/plan-file.js';
import { configYaml, helloidWrites, setup, type Env, type RunResult } from './harness.js';
import { applyOutputErrors, expectedAfter, makePlan, readPlanDoc, show, snapshot, type Membership, type PlanDoc } from './apply-helpers.js';

const HAVE_SSH_KEYGEN = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;

describe('apply checks what the reviewer saw, and the configuration policy', () => {
  let e: Env;
  let plan: PlanDoc;
  let before: Membership;

  beforeAll(async () => {
    e = await setup();
    before = snapshot(e.emulator);
    plan = await makePlan(e, 'plan.yaml');
    const ok = await e.run(['approve', 'plan.yaml', '--by', 'Reviewer']);
    expect(ok.code, show(ok)).toBe(0);
  }, 120_000);
  afterAll(async () => e?.stop());

  /**
   * What a hostile committer can do: edit plan.yaml, recompute the digest, drop the old
   * approvals; then a reviewer (who reads names) approves it.
   */
  async function rehashedAndApproved(name: string, edit: (text: string) => string): Promise<PlanDoc> {
    const edited = parsePlan(edit(readFileSync(e.file('plan.yaml'), 'utf8')), name);
    writePlan(e.file(name), { ...edited, digest: computeDigest(edited), approvals: [] });
    const ok = await e.run(['approve', name, '--by', 'Reviewer']);
    expect(ok.code, show(ok)).toBe(0);
    return readPlanDoc(e.file(name));
  }

  async function refused(args: string[]): Promise<RunResult> {
    const r = await e.run(['apply', ...args]);
    expect(r.code, show(r)).toBe(3);
    expect(r.stderr).toMatch(/^Error: refusing to apply/m);
    expect(helloidWrites(e.emulator)).toBe(0);
    expect(snapshot(e.emulator)).toEqual(before);
    return r;
  }

  it("a group GUID swapped to another group, digest recomputed, approved: refused naming the group", async () => {
    const victim = plan.groups.find((g) => g.groupName === 'Events Resource Owners')!;
    const other = e.emulator.state.helloid.groups.find((g) => g.name === 'Sales Resource Owners')!;
    const hostile = await rehashedAndApproved('swapped-group.yaml', (t) => t.replaceAll(victim.groupGuid, other.groupGuid));
    expect(hostile.groups.find((g) => g.groupGuid === other.groupGuid)!.groupName).toBe('Events Resource Owners');
    const r = await refused(['swapped-group.yaml']);
    expect(r.stderr).toContain('refusing to apply swapped-group.yaml: what it shows the reviewer does not match HelloID');
    expect(r.stderr).toContain(
      `  - group 'Events Resource Owners' (${other.groupGuid}): HelloID now calls this group 'Sales Resource Owners'; the plan (and its reviewer) says 'Events Resource Owners'`,
    );
  });

  it('a user GUID swapped, digest recomputed, approved: refused naming the user', async () => {
    const add = plan.changes.find((c) => c.action === 'add' && c.userName === 'anna.jansen@contoso.com')!;
    const text = readFileSync(e.file('plan.yaml'), 'utf8');
    const stranger = e.emulator.state.helloid.users.find((u) => u.userName === 'emma.koster@contoso.com')!;
    expect(text).not.toContain(stranger.userGUID);
    await rehashedAndApproved('swapped-user.yaml', (t) => t.replaceAll(add.userGuid, stranger.userGUID));
    const r = await refused(['swapped-user.yaml']);
    expect(r.stderr).toContain(`  - user 'anna.jansen@contoso.com' (${stranger.userGUID}): this GUID is HelloID user 'emma.koster@contoso.com', not 'anna.jansen@contoso.com'`);
  });

  it("expiresAt beyond createdAt plus the configuration's plan.expiresAfter, digest recomputed, approved: refused", async () => {
    const later = new Date(Date.parse(plan.createdAt) + 30 * 86_400_000).toISOString();
    await rehashedAndApproved('long-lived.yaml', (t) => t.replace(`expiresAt: ${plan.expiresAt}`, `expiresAt: ${later}`));
    const r = await refused(['long-lived.yaml']);
    expect(r.stderr).toContain(`long-lived.yaml is valid until ${later}, 30d after it was planned (${plan.createdAt}), but the configuration's plan.expiresAfter allows 72h.`);
  });

  it('the planned group renamed out of band after approval: refused naming the group (and --dry-run says so too)', async () => {
    const g = e.emulator.state.helloid.groups.find((x) => x.name === 'Inkoop Resource Owners')!;
    g.name = 'Purchasing Resource Owners';
    try {
      for (const args of [['plan.yaml'], ['plan.yaml', '--dry-run']]) {
        const r = await refused(args);
        expect(r.stderr).toContain(`  - group 'Inkoop Resource Owners' (${g.groupGuid}): HelloID now calls this group 'Purchasing Resource Owners'`);
      }
    } finally {
      g.name = 'Inkoop Resource Owners';
    }
  });

  it('a planned group deleted in HelloID after approval: refused (exit 3), not an error, naming the group', async () => {
    const h = e.emulator.state.helloid;
    const g = h.groups.find((x) => x.name === 'Inkoop Resource Owners')!;
    expect(h.deleteGroup(g.groupGuid)).toBe(true);
    try {
      // Not `refused()`: the deleted group is missing from the snapshot it compares.
      const r = await e.run(['apply', 'plan.yaml']);
      expect(r.code, show(r)).toBe(3);
      expect(r.stderr).toContain(`  - group 'Inkoop Resource Owners' (${g.groupGuid}): HelloID has no group with this GUID any more (404)`);
      expect(helloidWrites(e.emulator)).toBe(0);
    } finally {
      h.addGroup(g);
    }
  });

  it('apply --dry-run: exit 0 on the fresh approved plan, exit 3 after drift, zero writes, in text and --json', async () => {
    const ok = await e.run(['apply', 'plan.yaml', '--dry-run']);
    expect(ok.code, show(ok)).toBe(0);
    expect(ok.stdout).toContain('plan.yaml: intact, approved by Reviewer (plain name, not signed), expires');
    expect(ok.stdout).toContain('Checked 10 groups and their users in HelloID: names as planned; 10 pending.');
    expect(ok.stdout).toContain('Dry run: every check passed; apply would go ahead (11 to add, 2 to remove; 10 groups not yet as planned). Nothing was written.');
    const okJson = await e.run(['apply', 'plan.yaml', '--dry-run', '--json']);
    expect(okJson.code, show(okJson)).toBe(0);
    const out = JSON.parse(okJson.stdout) as { status: string; dryRun: boolean; approvals: unknown[] };
    expect(applyOutputErrors(out)).toBe('');
    expect(out).toMatchObject({ status: 'would-apply', dryRun: true, approvals: [{ by: 'Reviewer', kind: 'plain', counted: true }] });
    expect(helloidWrites(e.emulator)).toBe(0);

    // Drift: an intruder in one planned group.
    const h = e.emulator.state.helloid;
    const grown = plan.groups[0]!;
    const intruder = h.users.find((u) => u.userName === 'emma.koster@contoso.com')!;
    expect(h.addMember(grown.groupGuid, intruder.userGUID)).toBe('added');
    try {
      const r = await e.run(['apply', 'plan.yaml', '--dry-run']);
      expect(r.code, show(r)).toBe(3);
      expect(r.stderr).toContain(`  - ${grown.groupName} (${grown.groupGuid}): added since planning: emma.koster@contoso.com (${intruder.userGUID})`);
      expect(r.stderr).toContain('(--dry-run: this is the refusal apply would give; nothing was written.)');
      const j = await e.run(['apply', 'plan.yaml', '--dry-run', '--json']);
      expect(j.code, show(j)).toBe(3);
      const refusal = JSON.parse(j.stdout) as { status: string; dryRun: boolean; error: { exitCode: number } };
      expect(applyOutputErrors(refusal)).toBe('');
      expect(refusal).toMatchObject({ status: 'refused', dryRun: true, error: { exitCode: 3 } });
      expect(helloidWrites(e.emulator)).toBe(0);
    } finally {
      h.removeMember(grown.groupGuid, intruder.userGUID);
    }
    expect(snapshot(e.emulator)).toEqual(before);
  });

  // Last: the SSH-signed approval is applied.
  it.skipIf(!HAVE_SSH_KEYGEN)('apply.allowedSigners in the config: a plain approval does not count, an SSH-signed one does', async () => {
    const key = e.file('alice_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice', '-f', key]);
    const pub = readFileSync(`${key}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(e.file('allowed_signers'), `alice@contoso.com namespaces="ownersync-plan" ${pub}\n`);
    // The same settings plus apply.allowedSigners (relative to the config file); not in the config digest.
    writeFileSync(e.file('signers.yaml'), `${configYaml(e.emulator)}  allowedSigners: allowed_signers\n`);

    const plain = await refused(['plan.yaml', '-c', 'signers.yaml']);
    expect(plain.stderr).toContain(`plan.yaml has no approval with an SSH signature that verifies against ${e.file('allowed_signers')} (Reviewer: not SSH-signed)`);

    const signed = await e.run(['approve', 'plan.yaml', '--by', 'alice@contoso.com', '--ssh-key', key]);
    expect(signed.code, show(signed)).toBe(0);
    const shown = await e.run(['show', 'plan.yaml', '-c', 'signers.yaml']);
    expect(shown.stdout).toContain('approved by Reviewer (plain name, not signed), alice@contoso.com (SSH-signed, verified) · expires');

    const dry = await e.run(['apply', 'plan.yaml', '-c', 'signers.yaml', '--dry-run']);
    expect(dry.code, show(dry)).toBe(0);
    expect(helloidWrites(e.emulator)).toBe(0);
    const ok = await e.run(['apply', 'plan.yaml', '-c', 'signers.yaml']);
    expect(ok.code, show(ok)).toBe(0);
    expect(ok.stdout).toContain('approved by alice@contoso.com (SSH-signed, verified); not counted');
    expect(helloidWrites(e.emulator)).toBe(13);
    expect(snapshot(e.emulator)).toEqual(expectedAfter(before, plan));
  });
});
