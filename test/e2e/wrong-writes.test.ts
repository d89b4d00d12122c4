/**
 * Issue 17 stories 3, 4 and 5 end to end: the built CLI plans against the HTTPS emulator
 * (`removeMembers: true`) and the plan, or the refusal, is compared with one written by
 * hand. (Story 1, resume after drift, is test/e2e/apply-resume-drift.test.ts; story 2,
 * owner groups shared across the filter, is in test/e2e/removal-safety.test.ts.)
 *
 * The tenant (owner group "<DisplayName> Resource Owners"):
 *   Replaced  FullAccess dina                          members anna, bert   → every owner replaced at once
 *   Handover  FullAccess dina                          members carl         → a one-member group handed over
 *   Direct    FullAccess anna, SG-Team                 members anna, bert, carl
 *   Nested    FullAccess anna, SG-Outer (⊃ SG-Team)    members anna
 *   Guarded   FullAccess anna                          members anna, carl, erik
 * SG-Team holds bert. Its own Get-Recipient fails for good (500 on every attempt), while
 * SG-Outer's member list reaches the same group by GUID.
 */
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFixture } from '../../src/emulator/index.js';
import type { PlanFile } from '../../src/plan/index.js';
import { changeLines, keptLines, setup, show, type Env } from './harness.js';

const fa = (user: string) => ({ user, accessRights: ['FullAccess'] });

const ERIK = 'e0000000-0000-4000-8000-000000000005';
const fixture = {
  formatVersion: 1,
  tenant: { id: '00000000-0000-4000-8000-000000000001', organization: 'contoso.onmicrosoft.com', displayName: 'Contoso' },
  apps: [{ clientId: '00000000-0000-4000-8000-000000000002', displayName: 'ownersync (test)', secret: 'test-secret-not-real', roles: ['Exchange.ManageAsApp'], directoryRoles: ['Global Reader'] }],
  exchange: {
    users: ['anna', 'bert', 'carl', 'dina', 'erik'].map((n) => ({ upn: `${n}@contoso.com`, displayName: n[0]!.toUpperCase() + n.slice(1) })),
    groups: [
      { name: 'SG-Team', displayName: 'SG Team', primarySmtpAddress: 'sg-team@contoso.com', type: 'security', members: ['bert@contoso.com'] },
      { name: 'SG-Outer', displayName: 'SG Outer', primarySmtpAddress: 'sg-outer@contoso.com', type: 'security', members: ['SG-Team'] },
    ],
    mailboxes: [
      { displayName: 'Replaced', primarySmtpAddress: 'replaced@contoso.com', permissions: [fa('dina@contoso.com')] },
      { displayName: 'Handover', primarySmtpAddress: 'handover@contoso.com', permissions: [fa('dina@contoso.com')] },
      { displayName: 'Direct', primarySmtpAddress: 'direct@contoso.com', permissions: [fa('anna@contoso.com'), fa('SG-Team')] },
      { displayName: 'Nested', primarySmtpAddress: 'nested@contoso.com', permissions: [fa('anna@contoso.com'), fa('SG-Outer')] },
      { displayName: 'Guarded', primarySmtpAddress: 'guarded@contoso.com', permissions: [fa('anna@contoso.com')] },
    ],
  },
  helloid: {
    apiKeys: [{ key: 'test-helloid-key', secret: 'test-helloid-secret-not-real' }],
    users: [
      { userName: 'anna@contoso.com', userGUID: 'a0000000-0000-4000-8000-000000000001' },
      { userName: 'bert@contoso.com', userGUID: 'b0000000-0000-4000-8000-000000000002' },
      { userName: 'carl@contoso.com', userGUID: 'c0000000-0000-4000-8000-000000000003' },
      { userName: 'dina@contoso.com', userGUID: 'd0000000-0000-4000-8000-000000000004' },
      { userName: 'erik@contoso.com', userGUID: ERIK },
    ],
    groups: [
      { name: 'Replaced Resource Owners', members: ['anna@contoso.com', 'bert@contoso.com'] },
      { name: 'Handover Resource Owners', members: ['carl@contoso.com'] },
      { name: 'Direct Resource Owners', members: ['anna@contoso.com', 'bert@contoso.com', 'carl@contoso.com'] },
      { name: 'Nested Resource Owners', members: ['anna@contoso.com'] },
      { name: 'Guarded Resource Owners', members: ['anna@contoso.com', 'carl@contoso.com', 'erik@contoso.com'] },
    ],
  },
} as unknown as TenantFixture;

const OPEN = { maxRemovals: 100, maxRemovalPercent: 100 };
let e: Env;
let plan: PlanFile;


beforeAll(async () => {
  e = await setup({
    fixture,
    faults: { rules: [{ service: 'exchange', cmdlet: 'Get-Recipient', identity: 'SG-Team', action: 'error', status: 500 }] },
    // Story 5: a protected user named by GUID.
    sync: { removeMembers: true, protectedUsers: [ERIK.toUpperCase()], limits: { ...OPEN, allowEmptyingGroups: true } },
  });
  const r = await e.run(['plan', '-q'], { timeoutMs: 120_000 });
  expect(r.code, show(r)).toBe(0);
  plan = parse(e.read('plan.yaml')) as PlanFile;
}, 180_000);
afterAll(async () => e?.stop());

describe('wrong-write paths closed (issue 17)', () => {
  it('plans exactly these changes and keeps exactly these members', () => {
    expect(changeLines(plan)).toEqual([
      'remove Guarded Resource Owners carl@contoso.com',
      'remove Handover Resource Owners carl@contoso.com',
      'add Handover Resource Owners dina@contoso.com',
      // SG-Outer's member list names SG-Team by GUID, and that read worked: bert holds Nested through it.
      'add Nested Resource Owners bert@contoso.com',
      'remove Replaced Resource Owners anna@contoso.com',
      'remove Replaced Resource Owners bert@contoso.com',
      'add Replaced Resource Owners dina@contoso.com',
    ]);
    expect(keptLines(plan)).toEqual([
      // Story 4: SG-Team's own lookup failed; that SG-Outer reached a group of that name does not make it known.
      'Direct Resource Owners bert@contoso.com: removals held: holders of direct@contoso.com not fully known: SG-Team (lookup failed)',
      'Direct Resource Owners carl@contoso.com: removals held: holders of direct@contoso.com not fully known: SG-Team (lookup failed)',
      // Story 5: protectedUsers may name the GUID.
      'Guarded Resource Owners erik@contoso.com: protected user',
    ]);
    expect(plan.warnings.map((w) => `${w.code} ${w.mailbox} ${w.subject}`)).toEqual(['group-read-failed direct@contoso.com SG-Team']);
  });

  it('story 3: replacing every member of a group of two is refused as emptying it; a one-member hand-over is not', async () => {
    e.writeConfig({ removeMembers: true, protectedUsers: [ERIK], limits: { ...OPEN, allowEmptyingGroups: false } });
    const r = await e.run(['plan', '-q', '-o', 'limited.yaml', '--state', 'limited-state.yaml'], { timeoutMs: 120_000 });
    expect(r.code, show(r)).toBe(3);
    const text = r.stdout + r.stderr;
    expect(text).toContain("removing all 2 current members of group 'Replaced Resource Owners' (replaced@contoso.com) replaces every owner at once; sync.limits.allowEmptyingGroups is false");
    expect(text).not.toMatch(/Handover Resource Owners' \(handover@contoso\.com\)/);
  }, 180_000);
});
