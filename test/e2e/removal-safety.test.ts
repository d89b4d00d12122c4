/**
 * Removal safety end to end (issue 11 routes 1–4, issue 17 story 2): the built CLI plans
 * against the HTTPS emulator with `removeMembers: true`, and the plan is compared with
 * one spelled out by hand.
 *
 * The tenant (every mailbox's owner group is "<DisplayName> Resource Owners"):
 *   Renamed   FullAccess anna, bert.new (HelloID still calls him bert)    members anna, bert, carl
 *   Duplicate FullAccess anna, dina (HelloID: dina and DINA, two users)  members anna, DINA, carl
 *   Beheer    FullAccess anna, GG-Beheer (a security group that is not
 *             mail-enabled: only Get-Group knows it; member fenna)       members anna, fenna, carl
 *   OnPrem    FullAccess anna, CONTOSO\Beheerders (on-premises group)   members anna, carl
 *   Paging    FullAccess anna, erik                                     members anna, erik, gerda, zed, yves
 *   Teamsite  (two mailboxes of that name: teamsite1 holds anna, teamsite2 holds carl) members anna, carl, gerda
 *   Synced    FullAccess anna, SG-Synced (mail-enabled security group: hugo, and
 *             GG-Synced-Nested, not mail-enabled, holding ivy: only Get-Group lists
 *             that member, Get-DistributionGroupMember cannot)              members anna, ivy, carl
 * HelloID lists users two per page, and zed is deleted once the first page (anna, zed)
 * is served: the later pages shift and erik is skipped by the listing (wire-formats.md:
 * offset paging is no snapshot), so only his own lookup finds him. yves was deleted long
 * ago: absent from the list, 404 on his own lookup, his GUID still a member.
 */
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFixture } from '../../src/emulator/index.js';
import type { PlanFile } from '../../src/plan/index.js';
import { changeLines, keptLines, setup, show, type Env } from './harness.js';


const fixture = {
  formatVersion: 1,
  tenant: { id: '00000000-0000-4000-8000-000000000001', organization: 'contoso.onmicrosoft.com', displayName: 'Contoso' },
  apps: [{ clientId: '00000000-0000-4000-8000-000000000002', displayName: 'ownersync (test)', secret: 'test-secret-not-real', roles: ['Exchange.ManageAsApp'], directoryRoles: ['Global Reader'] }],
  exchange: {
    users: ['anna', 'bert.new', 'carl', 'dina', 'erik', 'fenna', 'gerda', 'hugo', 'ivy'].map((n) => ({ upn: `${n}@contoso.com`, displayName: n[0]!.toUpperCase() + n.slice(1) })),
    groups: [
      { name: 'GG-Beheer', displayName: 'GG Beheer', type: 'security', mailEnabled: false, members: ['fenna@contoso.com'] },
      { name: 'SG-Synced', displayName: 'SG Synced', primarySmtpAddress: 'sg-synced@contoso.com', type: 'security', members: ['hugo@contoso.com', 'GG-Synced-Nested'] },
      { name: 'GG-Synced-Nested', displayName: 'GG Synced Nested', type: 'security', mailEnabled: false, members: ['ivy@contoso.com'] },
    ],
    mailboxes: [
      { displayName: 'Renamed', primarySmtpAddress: 'renamed@contoso.com', permissions: [{ user: 'anna@contoso.com', accessRights: ['FullAccess'] }, { user: 'bert.new@contoso.com', accessRights: ['FullAccess'] }] },
      { displayName: 'Duplicate', primarySmtpAddress: 'duplicate@contoso.com', permissions: [{ user: 'anna@contoso.com', accessRights: ['FullAccess'] }, { user: 'dina@contoso.com', accessRights: ['FullAccess'] }] },
      { displayName: 'Beheer', primarySmtpAddress: 'beheer@contoso.com', permissions: [{ user: 'anna@contoso.com', accessRights: ['FullAccess'] }, { user: 'GG-Beheer', accessRights: ['FullAccess'] }] },
      { displayName: 'OnPrem', primarySmtpAddress: 'onprem@contoso.com', permissions: [{ user: 'anna@contoso.com', accessRights: ['FullAccess'] }, { user: 'CONTOSO\\Beheerders', accessRights: ['FullAccess'] }] },
      { displayName: 'Paging', primarySmtpAddress: 'paging@contoso.com', permissions: [{ user: 'anna@contoso.com', accessRights: ['FullAccess'] }, { user: 'erik@contoso.com', accessRights: ['FullAccess'] }] },
      { displayName: 'Teamsite', primarySmtpAddress: 'teamsite1@contoso.com', permissions: [{ user: 'anna@contoso.com', accessRights: ['FullAccess'] }] },
      { displayName: 'Teamsite', primarySmtpAddress: 'teamsite2@contoso.com', permissions: [{ user: 'carl@contoso.com', accessRights: ['FullAccess'] }] },
      { displayName: 'Synced', primarySmtpAddress: 'synced@contoso.com', permissions: [{ user: 'anna@contoso.com', accessRights: ['FullAccess'] }, { user: 'SG-Synced', accessRights: ['FullAccess'] }] },
    ],
  },
  helloid: {
    apiKeys: [{ key: 'test-helloid-key', secret: 'test-helloid-secret-not-real' }],
    users: [
      { userName: 'anna@contoso.com', userGUID: 'a0000000-0000-4000-8000-000000000001' },
      { userName: 'zed@contoso.com', userGUID: 'f0000000-0000-4000-8000-000000000026' },
      { userName: 'erik@contoso.com', userGUID: 'e0000000-0000-4000-8000-000000000005' },
      { userName: 'bert@contoso.com', userGUID: 'b0000000-0000-4000-8000-000000000002' },
      { userName: 'carl@contoso.com', userGUID: 'c0000000-0000-4000-8000-000000000003' },
      { userName: 'dina@contoso.com', userGUID: 'd0000000-0000-4000-8000-000000000004' },
      { userName: 'DINA@contoso.com', userGUID: 'd0000000-0000-4000-8000-000000000044' },
      { userName: 'fenna@contoso.com', userGUID: 'f0000000-0000-4000-8000-000000000006' },
      { userName: 'gerda@contoso.com', userGUID: 'a0000000-0000-4000-8000-000000000007' },
      { userName: 'yves@contoso.com', userGUID: 'f0000000-0000-4000-8000-000000000025', isDeleted: true },
      { userName: 'hugo@contoso.com', userGUID: 'a0000000-0000-4000-8000-000000000008' },
      { userName: 'ivy@contoso.com', userGUID: 'a0000000-0000-4000-8000-000000000009' },
    ],
    groups: [
      { name: 'Renamed Resource Owners', members: ['anna@contoso.com', 'bert@contoso.com', 'carl@contoso.com'] },
      { name: 'Duplicate Resource Owners', members: ['anna@contoso.com', 'd0000000-0000-4000-8000-000000000044', 'carl@contoso.com'] },
      { name: 'Beheer Resource Owners', members: ['anna@contoso.com', 'fenna@contoso.com', 'carl@contoso.com'] },
      { name: 'OnPrem Resource Owners', members: ['anna@contoso.com', 'carl@contoso.com'] },
      { name: 'Paging Resource Owners', members: ['anna@contoso.com', 'erik@contoso.com', 'gerda@contoso.com', 'zed@contoso.com', 'yves@contoso.com'] },
      { name: 'Teamsite Resource Owners', members: ['anna@contoso.com', 'carl@contoso.com', 'gerda@contoso.com'] },
      { name: 'Synced Resource Owners', members: ['anna@contoso.com', 'ivy@contoso.com', 'carl@contoso.com'] },
    ],
  },
} as unknown as TenantFixture;

const LIMITS = { maxRemovals: 100, maxRemovalPercent: 100, allowEmptyingGroups: true };
const YVES = 'f0000000-0000-4000-8000-000000000025';

let e: Env;
let plan: PlanFile;
let state: string;


beforeAll(async () => {
  e = await setup({
    fixture,
    options: { helloid: { maxTake: 2 } },
    faults: { helloidDeleteUserWhilePaging: { user: 'zed@contoso.com', afterPages: 1 } },
    sync: { removeMembers: true, limits: LIMITS },
  });
  const r = await e.run(['plan', '-q']);
  expect(r.code, show(r)).toBe(0);
  plan = parse(e.read('plan.yaml')) as PlanFile;
  state = e.read('desired-state.yaml');
});
afterAll(async () => e?.stop());

describe('plan holds the removals of every group whose holders are not fully known (spec §3 rule 6)', () => {
  it('plans exactly these changes', () => {
    expect(changeLines(plan)).toEqual([
      // Route 3: GG-Beheer is expanded through Get-Group, so fenna stays and only carl goes.
      'remove Beheer Resource Owners carl@contoso.com',
      // Route 4: erik, skipped by the shifted listing, is found by his own lookup: no change for him.
      // zed was listed before his deletion: HelloID said he exists, so he is compared like anyone.
      'remove Paging Resource Owners gerda@contoso.com',
      'remove Paging Resource Owners zed@contoso.com',
      // ivy holds FullAccess through SG-Synced > GG-Synced-Nested, a member only Get-Group
      // lists: she stays; hugo (a recipient member) is added and carl goes.
      'remove Synced Resource Owners carl@contoso.com',
      'add Synced Resource Owners hugo@contoso.com',
      // Teamsite is the owner group of both teamsite mailboxes: anna and carl are desired
      // (the union of their holders), gerda holds neither.
      'remove Teamsite Resource Owners gerda@contoso.com',
    ]);
  });

  it('keeps the members of held groups, each with the reason', () => {
    expect(keptLines(plan)).toEqual([
      // Route 2: dina matches two HelloID users; DINA, a member, may be her.
      'Duplicate Resource Owners carl@contoso.com: removals held: FullAccess holder dina@contoso.com matches 2 HelloID users',
      'Duplicate Resource Owners DINA@contoso.com: removals held: FullAccess holder dina@contoso.com matches 2 HelloID users',
      // Route 3: an on-premises DOMAIN\name trustee is unresolved, not a system trustee.
      'OnPrem Resource Owners carl@contoso.com: removals held: holders of onprem@contoso.com not fully known: CONTOSO\\Beheerders (neither a known user (UPN) nor a group Exchange could find)',
      // Route 4: yves was deleted; his GUID is still a member.
      `Paging Resource Owners ${YVES}: not a HelloID user (absent from the user list and GET /users/{guid}: a deleted user?)`,
      // Route 1: bert.new has no HelloID user; bert, under his old name, stays (and so does carl).
      'Renamed Resource Owners bert@contoso.com: removals held: FullAccess holder bert.new@contoso.com has no HelloID user',
      'Renamed Resource Owners carl@contoso.com: removals held: FullAccess holder bert.new@contoso.com has no HelloID user',
    ]);
  });

  it('says why in the warnings', () => {
    expect(plan.warnings.map((w) => `${w.code} ${w.subject}`)).toEqual([
      'ambiguous-owner-group Teamsite Resource Owners',
      'no-helloid-user dina@contoso.com',
      'no-helloid-user bert.new@contoso.com',
      `unknown-helloid-member ${YVES}`,
      'unresolved-trustee CONTOSO\\Beheerders',
    ]);
  });

  it('records the unresolved trustee in desired-state.yaml', () => {
    const doc = parse(state) as { mailboxes: Array<{ primarySmtpAddress: string; complete: boolean; unresolved?: unknown }> };
    expect(doc.mailboxes.find((m) => m.primarySmtpAddress === 'onprem@contoso.com')).toMatchObject({
      complete: false,
      unresolved: [{ subject: 'CONTOSO\\Beheerders', reason: 'neither a known user (UPN) nor a group Exchange could find' }],
    });
  });
});

describe('an owner group shared with a mailbox outside the filter (issue 17 story 2)', () => {
  it('without a filter: the union of both mailboxes\u2019 holders; only gerda, who holds neither, is removed', () => {
    expect(changeLines(plan).filter((l) => l.includes('Teamsite'))).toEqual(['remove Teamsite Resource Owners gerda@contoso.com']);
    expect(plan.groups.find((g) => g.groupName === 'Teamsite Resource Owners')?.plannedMembers).toEqual(['a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000003']);
    expect(keptLines(plan).filter((k) => k.startsWith('Teamsite'))).toEqual([]);
  });

  it('with a filter that leaves teamsite2 out: carl (who holds teamsite2) is kept, and the plan says why', async () => {
    e.writeConfig({ removeMembers: true, limits: LIMITS, mailboxFilter: "PrimarySmtpAddress -ne 'teamsite2@contoso.com'" });
    const r = await e.run(['plan', '-q', '-o', 'filtered.yaml', '--state', 'filtered-state.yaml']);
    expect(r.code, show(r)).toBe(0);
    const filtered = parse(e.read('filtered.yaml')) as PlanFile;
    expect(filtered.changes.filter((c) => c.groupName === 'Teamsite Resource Owners')).toEqual([]);
    expect(keptLines(filtered).filter((k) => k.startsWith('Teamsite'))).toEqual([
      'Teamsite Resource Owners carl@contoso.com: removals held: the group also belongs to mailbox teamsite2@contoso.com, outside exchange.mailboxFilter, whose holders were not read',
      'Teamsite Resource Owners gerda@contoso.com: removals held: the group also belongs to mailbox teamsite2@contoso.com, outside exchange.mailboxFilter, whose holders were not read',
    ]);
    expect(filtered.warnings.filter((w) => w.code === 'owner-group-outside-filter').map((w) => w.message)).toEqual([
      "HelloID group 'Teamsite Resource Owners' is also the owner group of mailbox teamsite2@contoso.com, which exchange.mailboxFilter leaves out; its holders were not read, so nobody is removed from the group (rename one mailbox, or widen the filter)",
    ]);
  });
});
