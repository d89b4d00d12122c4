/**
 * Approvals end to end, through the built CLI against the emulator: approve refuses a
 * tampered plan; `show` reports who approved; an approval of an older digest does not
 * carry over to a re-planned file (not even pasted into it); and SSH-signed approvals
 * count under --allowed-signers only for a principal listed there.
 *
 * The tests share one emulator and run in order: the re-planned plan of the second is
 * the one the SSH test approves and finally applies.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helloidWrites, setup, type Env } from './harness.js';
import { editPlanText, expectedAfter, makePlan, otherGuid, readPlanDoc, replaceAfter, show, snapshot, type Membership, type PlanDoc } from './apply-helpers.js';

const HAVE_SSH_KEYGEN = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;

describe('approvals', () => {
  let e: Env;
  let v1: PlanDoc;
  let before: Membership;

  beforeAll(async () => {
    e = await setup();
    before = snapshot(e.emulator);
    v1 = await makePlan(e, 'plan.yaml');
  });
  afterAll(async () => e?.stop());

  it('approve refuses a tampered plan (exit 3) and leaves it unapproved', async () => {
    // A display-only edit that keeps the plan consistent, and an edit that also breaks it.
    editPlanText(e.file('plan.yaml'), e.file('t-reason.yaml'), (t) => replaceAfter(t, '\nchanges:', /reason: (.*)/, 'reason: $1, says the owner'));
    const c = v1.changes[0]!;
    editPlanText(e.file('plan.yaml'), e.file('t-user.yaml'), (t) => replaceAfter(t, '\nchanges:', `userGuid: ${c.userGuid}`, `userGuid: ${otherGuid(c.userGuid)}`));
    for (const name of ['t-reason.yaml', 't-user.yaml']) {
      const text = readFileSync(e.file(name), 'utf8');
      const r = await e.run(['approve', name, '--by', 'Reviewer']);
      expect(r.code, show(r)).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`^Error: refusing to approve: ${name.replace('.', '\\.')} has been modified after it was planned`, 'm'));
      expect(r.stderr).toContain('run `ownersync plan` again and have the new plan approved');
      expect(readFileSync(e.file(name), 'utf8')).toBe(text);
    }
  });

  it('approve → show reports "approved by"; an approval of an older digest does not count after re-plan', async () => {
    const ok = await e.run(['approve', 'plan.yaml', '--by', 'Jane Doe', '--comment', 'checked with the mailbox owners']);
    expect(ok.code, show(ok)).toBe(0);
    expect(ok.stdout).toContain(`Approved plan.yaml (${v1.digest}) by Jane Doe.`);
    const approved = readPlanDoc(e.file('plan.yaml'));
    expect(approved.digest).toBe(v1.digest);
    expect(approved.approvals).toEqual([{ by: 'Jane Doe', at: expect.any(String), digest: v1.digest, comment: 'checked with the mailbox owners' }]);
    const shown = await e.run(['show', 'plan.yaml']);
    expect(shown.code, show(shown)).toBe(0);
    expect(shown.stdout).toContain(`plan.yaml: ${v1.digest} · intact · unsigned · approved by Jane Doe (plain name, not signed) · expires`);
    copyFileSync(e.file('plan.yaml'), e.file('plan-v1.yaml'));

    // Re-plan (same HelloID, so the same changes, but a new createdAt and so a new digest).
    const v2 = await makePlan(e, 'plan.yaml');
    expect(v2.digest).not.toBe(v1.digest);
    expect(v2.approvals).toEqual([]);

    // Paste v1's approval into v2 (approvals sit outside the digest, so the file stays intact): still not approved.
    const v1Approvals = readFileSync(e.file('plan-v1.yaml'), 'utf8').split('\napprovals:')[1]!;
    editPlanText(e.file('plan.yaml'), e.file('plan.yaml'), (t) => t.replace(/\napprovals: \[\]\n$/, `\napprovals:${v1Approvals}`));
    expect(readPlanDoc(e.file('plan.yaml')).approvals).toEqual(approved.approvals);
    const shown3 = await e.run(['show', 'plan.yaml']);
    expect(shown3.stdout).toContain(`plan.yaml: ${v2.digest} · intact · unsigned · not approved ·`);
    const stale = await e.run(['apply', 'plan.yaml']);
    expect(stale.code, show(stale)).toBe(3);
    expect(stale.stderr).toContain(`plan.yaml has no approval for its digest ${v2.digest} (its approval is for another digest, i.e. for a different version of the plan).`);
    expect(stale.stderr).toContain('ownersync approve plan.yaml --by <name>');
    expect(helloidWrites(e.emulator)).toBe(0);
    expect(snapshot(e.emulator)).toEqual(before);
  });

  it.skipIf(!HAVE_SSH_KEYGEN)('SSH-signed approvals: apply --allowed-signers accepts a listed principal and refuses another', async () => {
    const key = e.file('alice_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice', '-f', key]);
    const pub = readFileSync(`${key}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(e.file('allowed_signers'), `alice@contoso.com namespaces="ownersync-plan" ${pub}\n`);
    writeFileSync(e.file('other_signers'), `bob@contoso.com namespaces="ownersync-plan" ${pub}\n`);

    // A plain approval and an SSH-signed one, on the current plan.
    const plain = await e.run(['approve', 'plan.yaml', '--by', 'Jane Doe']);
    expect(plain.code, show(plain)).toBe(0);
    const signed = await e.run(['approve', 'plan.yaml', '--by', 'alice@contoso.com', '--ssh-key', key]);
    expect(signed.code, show(signed)).toBe(0);
    expect(signed.stdout).toContain('by alice@contoso.com (SSH-signed).');
    const plan = readPlanDoc(e.file('plan.yaml'));
    expect(plan.approvals.filter((a) => a.digest === plan.digest).map((a) => [a.by, Boolean(a.sshSignature)])).toEqual([
      ['Jane Doe', false],
      ['alice@contoso.com', true],
    ]);

    // show says what each approval is worth: without a file to check against, and with one.
    const unchecked = await e.run(['show', 'plan.yaml']);
    expect(unchecked.stdout).toContain('approved by Jane Doe (plain name, not signed), alice@contoso.com (SSH-signed, not verified: no allowed-signers file to verify it against) · expires');
    const checked = await e.run(['show', 'plan.yaml', '--allowed-signers', 'allowed_signers']);
    expect(checked.stdout).toContain('approved by Jane Doe (plain name, not signed), alice@contoso.com (SSH-signed, verified) · expires');
    const md = await e.run(['show', 'plan.yaml', '--markdown', '--allowed-signers', 'allowed_signers']);
    expect(md.stdout).toContain('| Approvals | Jane Doe (plain name, not signed), alice@contoso.com (SSH-signed, verified) |');
    const wrong = await e.run(['show', 'plan.yaml', '--allowed-signers', 'other_signers']);
    expect(wrong.stdout).toMatch(/alice@contoso\.com \(SSH-signed, not verified: [^)]+\) · expires/);

    // Against a file that lists only another principal, neither approval counts.
    const refused = await e.run(['apply', 'plan.yaml', '--allowed-signers', 'other_signers']);
    expect(refused.code, show(refused)).toBe(3);
    expect(refused.stderr).toContain('plan.yaml has no approval with an SSH signature that verifies against other_signers');
    expect(refused.stderr).toContain('Jane Doe: not SSH-signed');
    expect(refused.stderr).toContain('alice@contoso.com: ');
    expect(refused.stderr).toContain("Approve it with an SSH key whose principal is listed there (the approver's --by name).");
    expect(helloidWrites(e.emulator)).toBe(0);
    expect(snapshot(e.emulator)).toEqual(before);

    // Against the file that lists alice: applied.
    const ok = await e.run(['apply', 'plan.yaml', '--allowed-signers', 'allowed_signers']);
    expect(ok.code, show(ok)).toBe(0);
    expect(ok.stdout).toContain(
      'approved by alice@contoso.com (SSH-signed, verified); not counted (only verified SSH-signed approvals count, allowed signers: allowed_signers): Jane Doe (plain name, not signed)',
    );
    expect(helloidWrites(e.emulator)).toBe(13);
    expect(snapshot(e.emulator)).toEqual(expectedAfter(before, plan));
  });
});
