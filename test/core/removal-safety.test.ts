/**
 * Removal safety, route by route (issue 11, issue 17 stories 2, 4, 5) and reason by
 * reason (spec §3 rule 6). Each case is a small tenant with its plan spelled out by hand.
 *
 * The tenant: shared mailbox "Sales" (sales@contoso.com) → HelloID group "Sales Resource
 * Owners", whose members are anna, bert and carl. anna holds FullAccess directly in every
 * case. bert's UPN was renamed to bert.new@contoso.com; HelloID still calls him
 * bert@contoso.com. carl holds nothing unless a case says so.
 */
import { describe, expect, it } from 'vitest';
import { computeDesiredState, computeDiff, type DiffResult, type ExchangeGroup, type ExchangeSnapshot, type HelloIdSnapshot, type PermissionEntry, type SyncOptions } from '../../src/core/index.js';
import { fa, hgroup, huser, mailbox, opts, xgroup, xuser } from './fixtures.js';

const anna = xuser('anna@contoso.com', { name: 'Anna' });
const bertNew = xuser('bert.new@contoso.com', { name: 'Bert' });
const carl = xuser('carl@contoso.com', { name: 'Carl' });
const dina = xuser('dina@contoso.com', { name: 'Dina' });
const X_USERS = [anna, bertNew, carl, dina];

const hAnna = huser('anna@contoso.com', 'a0000000-0000-4000-8000-000000000001');
const hBert = huser('bert@contoso.com', 'b0000000-0000-4000-8000-000000000002');
const hCarl = huser('carl@contoso.com', 'c0000000-0000-4000-8000-000000000003');
const hDina = huser('dina@contoso.com', 'd0000000-0000-4000-8000-000000000004');
const H_USERS = [hAnna, hBert, hCarl, hDina];
const GROUP = 'Sales Resource Owners';
const MEMBERS = [hAnna.userGuid, hBert.userGuid, hCarl.userGuid];

interface Case {
  name: string;
  rows?: PermissionEntry[] | null;
  groups?: ExchangeGroup[];
  exchange?: Partial<ExchangeSnapshot>;
  helloid?: Partial<HelloIdSnapshot>;
  members?: string[] | null;
  opts?: Partial<SyncOptions>;
  changes: string[];
  kept: string[];
  warnings?: string[];
}

function run(c: Case): DiffResult {
  const o = opts(c.opts);
  const ex: ExchangeSnapshot = { mailboxes: [mailbox('Sales', 'sales@contoso.com', c.rows === undefined ? [fa('anna@contoso.com')] : c.rows)], users: X_USERS, groups: c.groups ?? [], ...c.exchange };
  const hid: HelloIdSnapshot = { users: H_USERS, groups: [hgroup(GROUP, c.members === undefined ? MEMBERS : c.members)], ...c.helloid };
  return computeDiff(computeDesiredState(ex, o), hid, o);
}

const changes = (r: DiffResult) => r.changes.map((c) => `${c.action} ${c.userName}`);
const kept = (r: DiffResult) => r.kept.map((k) => `${k.userName}: ${k.reason}`);
const warnings = (r: DiffResult) => r.warnings.map((w) => `${w.code} ${w.subject}`);

const held = (why: string) => [`bert@contoso.com: removals held: ${why}`, `carl@contoso.com: removals held: ${why}`];
const DIRECT = [fa('anna@contoso.com')];

const cases: Case[] = [
  {
    name: 'baseline: every holder known and mapped → members who hold nothing are removed',
    changes: ['remove bert@contoso.com', 'remove carl@contoso.com'],
    kept: [],
  },
  {
    name: 'route 1: a holder with no HelloID user (renamed UPN) holds the removals, so bert under his old name stays',
    rows: [...DIRECT, fa('bert.new@contoso.com')],
    changes: [],
    kept: held('FullAccess holder bert.new@contoso.com has no HelloID user'),
    warnings: ['no-helloid-user bert.new@contoso.com'],
  },
  {
    name: 'route 2: a holder whose userName matches two HelloID users holds the removals, the member copy included',
    rows: [...DIRECT, fa('dina@contoso.com')],
    helloid: { users: [...H_USERS, huser('DINA@contoso.com', 'd0000000-0000-4000-8000-000000000005')] },
    members: [...MEMBERS, 'd0000000-0000-4000-8000-000000000005'],
    changes: [],
    kept: [...held('FullAccess holder dina@contoso.com matches 2 HelloID users'), 'DINA@contoso.com: removals held: FullAccess holder dina@contoso.com matches 2 HelloID users'],
    warnings: ['no-helloid-user dina@contoso.com'],
  },
  {
    name: 'route 3: a security group that is not mail-enabled (Get-Group, members by Name) is expanded: carl holds through it',
    rows: [...DIRECT, fa('Sales Sec')],
    groups: [xgroup('Sales Sec', [{ name: 'Carl' }], { recipientTypeDetails: 'UniversalSecurityGroup', primarySmtpAddress: undefined })],
    changes: ['remove bert@contoso.com'],
    kept: [],
  },
  {
    name: 'route 3: a trustee neither user nor group (deleted object shown by name) holds the removals',
    rows: [...DIRECT, fa('Old Sales Team')],
    changes: [],
    kept: held('holders of sales@contoso.com not fully known: Old Sales Team (neither a known user (UPN) nor a group Exchange could find)'),
    warnings: ['unresolved-trustee Old Sales Team'],
  },
  {
    name: 'route 3: an on-premises DOMAIN\\name trustee is unresolved, not a system trustee',
    rows: [...DIRECT, fa('CONTOSO\\Sales Owners')],
    changes: [],
    kept: held('holders of sales@contoso.com not fully known: CONTOSO\\Sales Owners (neither a known user (UPN) nor a group Exchange could find)'),
    warnings: ['unresolved-trustee CONTOSO\\Sales Owners'],
  },
  {
    name: 'system trustees (NT AUTHORITY, SIDs, forest admin groups) hold nothing back',
    rows: [...DIRECT, fa('NT AUTHORITY\\SELF'), fa('S-1-5-21-1-2-3-500'), fa('EURPR05A002\\Organization Management')],
    changes: ['remove bert@contoso.com', 'remove carl@contoso.com'],
    kept: [],
  },
  {
    name: 'route 4: a member GUID HelloID does not know (deleted user) is kept with a warning; other removals go ahead',
    members: [...MEMBERS, 'e0000000-0000-4000-8000-00000000dead'],
    changes: ['remove bert@contoso.com', 'remove carl@contoso.com'],
    kept: ['e0000000-0000-4000-8000-00000000dead: not a HelloID user (absent from the user list and GET /users/{guid}: a deleted user?)'],
    warnings: ['unknown-helloid-member e0000000-0000-4000-8000-00000000dead'],
  },
  {
    name: 'rule 6: a failed permission read holds the removals',
    rows: null,
    changes: [],
    kept: ['anna@contoso.com: removals held: holders of sales@contoso.com not fully known: sales@contoso.com (FullAccess permissions could not be read)', ...held('holders of sales@contoso.com not fully known: sales@contoso.com (FullAccess permissions could not be read)')],
    warnings: ['incomplete-read sales@contoso.com'],
  },
  {
    name: 'rule 6: a group whose members could not be read holds the removals',
    rows: [...DIRECT, fa('Sales-Team')],
    groups: [xgroup('Sales-Team', null, { memberError: '503' })],
    changes: [],
    kept: held('holders of sales@contoso.com not fully known: Sales-Team (members could not be read)'),
    warnings: ['group-read-failed Sales-Team'],
  },
  {
    name: 'rule 6: a trustee matching two groups is ambiguous and holds the removals',
    rows: [...DIRECT, fa('Sales-Team')],
    groups: [xgroup('Sales-Team', [], { guid: 'g1' }), xgroup('Sales-Team', [], { guid: 'g2' })],
    changes: [],
    kept: held('holders of sales@contoso.com not fully known: Sales-Team (matches several groups (Sales-Team, Sales-Team))'),
    warnings: ['unresolved-trustee Sales-Team'],
  },
  {
    name: 'rule 6: a group trustee with expandGroups off is unexpanded and holds the removals',
    rows: [...DIRECT, fa('Sales-Team')],
    groups: [xgroup('Sales-Team', [])],
    opts: { expandGroups: false },
    changes: [],
    kept: held('holders of sales@contoso.com not fully known: Sales-Team (a group, not expanded (exchange.expandGroups: false))'),
    warnings: ['unresolved-trustee Sales-Team'],
  },
  {
    name: 'rule 6: an unresolvable member of a trustee group holds the removals',
    rows: [...DIRECT, fa('Sales-Team')],
    groups: [xgroup('Sales-Team', [{ name: 'Ex Employee', recipientTypeDetails: 'UserMailbox' }])],
    changes: [],
    kept: held("holders of sales@contoso.com not fully known: Ex Employee (member of 'Sales-Team': not a user or group Exchange knows)"),
    warnings: ['unresolved-trustee Ex Employee'],
  },
  {
    name: "issue 17 story 4: a trustee whose own lookup failed stays a failed read, although a group of that name was reached another way",
    rows: [...DIRECT, fa('Sales-Team')],
    groups: [xgroup('Sales-Team', [{ name: 'Anna', externalDirectoryObjectId: anna.externalDirectoryObjectId, recipientTypeDetails: 'UserMailbox' }])],
    exchange: { failedLookups: [{ identity: 'sales-team', error: 'Get-Recipient failed after 5 attempts: 503' }] },
    changes: [],
    kept: held('holders of sales@contoso.com not fully known: Sales-Team (lookup failed)'),
    warnings: ['group-read-failed Sales-Team'],
  },
  {
    name: 'a member of a non-mail-enabled group known only by name, whose own lookup failed, holds the removals',
    rows: [...DIRECT, fa('Sales Sec')],
    groups: [xgroup('Sales Sec', [{ name: 'Carl' }, { name: 'Nested Sec' }], { recipientTypeDetails: 'UniversalSecurityGroup', primarySmtpAddress: undefined })],
    exchange: { failedLookups: [{ identity: 'Nested Sec', error: 'Get-Group failed: 503' }] },
    changes: [],
    kept: ['bert@contoso.com: removals held: holders of sales@contoso.com not fully known: Nested Sec (lookup failed)'],
    warnings: ['group-read-failed Nested Sec'],
  },
  {
    name: 'a nested member named by GUID is read through that GUID, even when a lookup of its name failed elsewhere',
    rows: [...DIRECT, fa('Outer')],
    groups: [xgroup('Outer', [{ name: 'Inner', guid: 'g-inner', recipientTypeDetails: 'MailUniversalSecurityGroup' }]), xgroup('Inner', [{ name: 'Carl', externalDirectoryObjectId: carl.externalDirectoryObjectId, recipientTypeDetails: 'UserMailbox' }], { guid: 'g-inner' })],
    exchange: { failedLookups: [{ identity: 'Inner', error: 'Get-Recipient failed: 503' }] },
    changes: ['remove bert@contoso.com'],
    kept: [],
  },
  {
    name: 'issue 17 story 2: an owner group shared with a mailbox outside the filter holds its removals',
    exchange: { outsideFilter: [{ displayName: 'sales', primarySmtpAddress: 'sales-archive@contoso.com' }] },
    changes: [],
    kept: held('the group also belongs to mailbox sales-archive@contoso.com, outside exchange.mailboxFilter, whose holders were not read'),
    warnings: ['owner-group-outside-filter Sales Resource Owners'],
  },
  {
    name: 'a mailbox skipped for an ambiguous owner-group name holds the removals of every candidate group: carl holds "Salés", which may mean this group',
    // "Salés Resource Owners" exists nowhere exactly; without diacritics it is both
    // "Sales Resource Owners" (this group, Sales' own) and "Salès Resource Owners".
    exchange: { mailboxes: [mailbox('Sales', 'sales@contoso.com', DIRECT), mailbox('Salés', 'sales-fr@contoso.com', [fa('carl@contoso.com')])] },
    helloid: { groups: [hgroup(GROUP, MEMBERS), hgroup('Salès Resource Owners', [])] },
    changes: [],
    kept: held('mailbox sales-fr@contoso.com may also own the group: its owner-group name matches several groups'),
    warnings: ['ambiguous-owner-group Salés Resource Owners'],
  },
  {
    name: 'a mailbox outside the filter whose owner-group name is ambiguous holds the removals of every candidate group',
    exchange: { outsideFilter: [{ displayName: 'Salés', primarySmtpAddress: 'sales-fr@contoso.com' }] },
    helloid: { groups: [hgroup(GROUP, MEMBERS), hgroup('Salès Resource Owners', [])] },
    changes: [],
    kept: held('the group also belongs to mailbox sales-fr@contoso.com, outside exchange.mailboxFilter, whose holders were not read'),
    warnings: ['owner-group-outside-filter Sales Resource Owners'],
  },
  {
    name: 'issue 17 story 5: protectedUsers may name a GUID',
    opts: { protectedUsers: [hCarl.userGuid.toUpperCase()] },
    changes: ['remove bert@contoso.com'],
    kept: ['carl@contoso.com: protected user'],
  },
  {
    name: 'held removals never hold back adds for the known holders',
    rows: [...DIRECT, fa('dina@contoso.com'), fa('Old Sales Team')],
    changes: ['add dina@contoso.com'],
    kept: held('holders of sales@contoso.com not fully known: Old Sales Team (neither a known user (UPN) nor a group Exchange could find)'),
    warnings: ['unresolved-trustee Old Sales Team'],
  },
  {
    name: 'HelloID members not read: nothing is planned at all',
    members: null,
    changes: [],
    kept: [],
    warnings: ['incomplete-read Sales Resource Owners'],
  },
  {
    name: 'removeMembers false: nothing is removed, whatever else holds',
    opts: { removeMembers: false },
    changes: [],
    kept: ['bert@contoso.com: removeMembers is false', 'carl@contoso.com: removeMembers is false'],
  },
];

describe('removal safety, route by route (spec §3 rule 6)', () => {
  it.each(cases)('$name', (c) => {
    const r = run(c);
    expect(changes(r)).toEqual(c.changes);
    expect(kept(r)).toEqual(c.kept);
    expect(warnings(r)).toEqual(c.warnings ?? []);
  });

  it('desired state records the unresolved trustees per mailbox, so history shows why removals were held', () => {
    const o = opts();
    const d = computeDesiredState({ mailboxes: [mailbox('Sales', 'sales@contoso.com', [...DIRECT, fa('CONTOSO\\Sales Owners')])], users: X_USERS, groups: [] }, o);
    expect(d.mailboxes[0]!.unknown).toEqual([{ subject: 'CONTOSO\\Sales Owners', reason: 'neither a known user (UPN) nor a group Exchange could find' }]);
  });
});
