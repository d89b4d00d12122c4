import { describe, expect, it } from 'vitest';
import {
  computeDesiredState,
  hasFullAccess,
  isSystemTrustee,
  type ExchangeGroup,
  type ExchangeUser,
  type Holder,
  type PermissionEntry,
  type WarningCode,
} from '../../src/core/index.js';
import { fa, groupMember, mailbox, opts, snapshot, userMember, xgroup, xuser } from './fixtures.js';

const alice = xuser('alice@contoso.com', { displayName: 'Alice' });
const bob = xuser('Bob@Contoso.com', { displayName: 'Bob' });
const carol = xuser('carol@contoso.com', { displayName: 'Carol' });
const dave = xuser('dave@contoso.com', { displayName: undefined });
const USERS = [alice, bob, carol, dave];

/** Holders reduced to "upn direct via" for compact expectations. */
function brief(holders: Holder[]): string[] {
  return holders.map((h) => `${h.userPrincipalName}${h.direct ? ' direct' : ''}${h.via.map((c) => ` via:${c.join('>')}`).join('')}`);
}

describe('isSystemTrustee / hasFullAccess', () => {
  it.each([
    ['NT AUTHORITY\\SELF', true],
    ['nt authority\\system', true],
    ['S-1-5-21-3623811015-3361044348-30300820-1013', true],
    ['s-1-5-21-1', true],
    // Exchange Online's own forest admin groups (spec §3 rule 2) …
    ['NAMPR01A001\\Organization Management', true],
    ['EURPR05A002\\Recipient Management', true],
    ['apcpr06a007\\View-Only Organization Management', true],
    // … but any other DOMAIN\name is an unresolved trustee, not a system one (issue 11 route 3).
    ['CONTOSO\\Domain Admins', false],
    ['CONTOSO\\Organization Management', false],
    ['NAMPR01\\Organization Management', false],
    ['alice@contoso.com', false],
    ['Sales-Team', false],
    ['Sam', false],
  ])('%j system: %s', (t, expected) => expect(isSystemTrustee(t)).toBe(expected));

  it.each([
    [['FullAccess'], true],
    [['fullaccess'], true],
    [['ReadPermission', 'FullAccess'], true],
    [['FullAccess, ReadPermission'], true],
    ['FullAccess, ReadPermission', true],
    ['ReadPermission,FULLACCESS', true],
    [['ReadPermission'], false],
    [['ChangeOwner', 'DeleteItem'], false],
    ['', false],
    [[], false],
    [null, false],
  ] as [unknown, boolean][])('%j → %s', (rights, expected) => expect(hasFullAccess(rights)).toBe(expected));
});

describe('computeDesiredState: permission rows', () => {
  /** `complete: false` when the row leaves the holders unknown (spec §3 rule 6). */
  type Case = { name: string; rows: PermissionEntry[]; holders: string[]; warnings?: WarningCode[]; complete?: boolean };
  const cases: Case[] = [
    { name: 'direct FullAccess', rows: [fa('alice@contoso.com')], holders: ['alice@contoso.com direct'] },
    { name: 'UPN match is case-insensitive and keeps the Get-User spelling', rows: [fa('BOB@CONTOSO.COM')], holders: ['Bob@Contoso.com direct'] },
    { name: 'Deny rows are ignored', rows: [fa('alice@contoso.com', { deny: 'True' })], holders: [] },
    { name: 'Deny as boolean true', rows: [fa('alice@contoso.com', { deny: true })], holders: [] },
    { name: 'inherited rows are ignored', rows: [fa('alice@contoso.com', { isInherited: 'True' })], holders: [] },
    { name: 'inherited as lower-case string', rows: [fa('alice@contoso.com', { isInherited: 'true' })], holders: [] },
    { name: 'string "False" is false', rows: [fa('alice@contoso.com', { isInherited: 'False', deny: 'False' })], holders: ['alice@contoso.com direct'] },
    { name: 'null booleans are false', rows: [fa('alice@contoso.com', { isInherited: null, deny: null })], holders: ['alice@contoso.com direct'] },
    { name: 'ReadPermission only is ignored', rows: [fa('alice@contoso.com', { accessRights: ['ReadPermission'] })], holders: [] },
    { name: 'rights as one comma-separated string', rows: [fa('alice@contoso.com', { accessRights: 'ReadPermission, FullAccess' as unknown as string[] })], holders: ['alice@contoso.com direct'] },
    { name: 'NT AUTHORITY\\SELF is ignored silently', rows: [fa('NT AUTHORITY\\SELF')], holders: [] },
    { name: 'SIDs are ignored silently', rows: [fa('S-1-5-21-1-2-3-1013'), fa('s-1-5-32-544')], holders: [] },
    { name: 'a forest admin group is ignored silently', rows: [fa('NAMPR01A001\\Organization Management')], holders: [] },
    { name: 'an on-premises DOMAIN\\name is unresolved: warned, holders unknown', rows: [fa('CONTOSO\\Sales Owners')], holders: [], warnings: ['unresolved-trustee'], complete: false },
    { name: 'an unknown trustee is a warning, and the holders are unknown', rows: [fa('ghost@contoso.com')], holders: [], warnings: ['unresolved-trustee'], complete: false },
    { name: 'an empty trustee is a warning, and the holders are unknown', rows: [fa('  ')], holders: [], warnings: ['unresolved-trustee'], complete: false },
    { name: 'duplicate rows give one holder', rows: [fa('alice@contoso.com'), fa('ALICE@contoso.com')], holders: ['alice@contoso.com direct'] },
    {
      name: 'holders sorted by UPN, case-insensitive',
      rows: [fa('dave@contoso.com'), fa('carol@contoso.com'), fa('bob@contoso.com'), fa('alice@contoso.com')],
      holders: ['alice@contoso.com direct', 'Bob@Contoso.com direct', 'carol@contoso.com direct', 'dave@contoso.com direct'],
    },
  ];

  it.each(cases)('$name', (c) => {
    const d = computeDesiredState(snapshot([mailbox('Sales', 'sales@contoso.com', c.rows)], USERS), opts());
    expect(d.mailboxes).toHaveLength(1);
    expect(brief(d.mailboxes[0]!.holders)).toEqual(c.holders);
    expect(d.mailboxes[0]!.unknown.length === 0).toBe(c.complete ?? true);
    expect(d.warnings.map((w) => w.code)).toEqual(c.warnings ?? []);
    for (const w of d.warnings) expect(w.mailbox).toBe('sales@contoso.com');
  });

  it('fills the mailbox identity and owner-group name', () => {
    const d = computeDesiredState(snapshot([mailbox('Sales', 'sales@contoso.com', [fa('dave@contoso.com'), fa('alice@contoso.com')], { guid: 'ABCDEF00-0000-0000-0000-000000000001' })], USERS), opts({ groupPrefix: 'RO ' }));
    expect(d.mailboxes[0]).toEqual({
      guid: 'abcdef00-0000-0000-0000-000000000001',
      displayName: 'Sales',
      primarySmtpAddress: 'sales@contoso.com',
      ownerGroupName: 'RO Sales Resource Owners',
      holders: [
        { userPrincipalName: 'alice@contoso.com', displayName: 'Alice', direct: true, via: [] },
        { userPrincipalName: 'dave@contoso.com', direct: true, via: [] },
      ],
      unknown: [],
    });
  });

  it('sorts mailboxes by owner-group name (case-insensitive), then guid', () => {
    const d = computeDesiredState(
      snapshot([
        mailbox('beta', 'b@contoso.com', [], { guid: '2' }),
        mailbox('Alpha', 'a2@contoso.com', [], { guid: '2' }),
        mailbox('alpha', 'a1@contoso.com', [], { guid: '1' }),
      ]),
      opts(),
    );
    expect(d.mailboxes.map((m) => m.primarySmtpAddress)).toEqual(['a1@contoso.com', 'a2@contoso.com', 'b@contoso.com']);
  });

  it('a mailbox whose permission read failed is incomplete with no holders', () => {
    const d = computeDesiredState(snapshot([mailbox('Sales', 'sales@contoso.com', null, { permissionError: 'POST https://x/InvokeCommand → 503' })], USERS), opts());
    expect(d.mailboxes[0]).toMatchObject({ holders: [], unknown: [{ subject: 'sales@contoso.com', reason: 'FullAccess permissions could not be read' }] });
    expect(d.warnings).toEqual([
      expect.objectContaining({ code: 'incomplete-read', mailbox: 'sales@contoso.com', message: expect.stringContaining('503') }),
    ]);
  });
});

describe('computeDesiredState: groups', () => {
  const sales = xgroup('Sales-Team', [userMember(alice), userMember(bob)], { displayName: 'Sales Team', alias: 'salesteam', externalDirectoryObjectId: 'e-sales' });

  function run(rows: PermissionEntry[], groups: ExchangeGroup[], expandGroups = true, users: ExchangeUser[] = USERS) {
    return computeDesiredState(snapshot([mailbox('Shared', 'shared@contoso.com', rows)], users, groups), opts({ expandGroups }));
  }

  it.each([
    ['name', 'Sales-Team'],
    ['name, other case', 'sales-team'],
    ['displayName', 'Sales Team'],
    ['primarySmtpAddress', 'sales-team@contoso.com'],
    ['alias', 'SalesTeam'],
    ['guid', sales.guid!.toUpperCase()],
    ['externalDirectoryObjectId', 'E-SALES'],
  ])('resolves a group trustee by %s', (_by, trustee) => {
    const d = run([fa(trustee)], [sales]);
    expect(brief(d.mailboxes[0]!.holders)).toEqual(['alice@contoso.com via:Sales-Team', 'Bob@Contoso.com via:Sales-Team']);
    expect(d.warnings).toEqual([]);
  });

  it('with expandGroups off, a group trustee is a warning saying so, and the holders are unknown', () => {
    const d = run([fa('Sales-Team')], [sales], false);
    expect(d.mailboxes[0]!.holders).toEqual([]);
    expect(d.mailboxes[0]!.unknown).toEqual([{ subject: 'Sales-Team', reason: 'a group, not expanded (exchange.expandGroups: false)' }]);
    expect(d.warnings).toEqual([expect.objectContaining({ code: 'unresolved-trustee', subject: 'Sales-Team', message: expect.stringMatching(/group expansion is off/) })]);
  });

  it('with expandGroups off and groups not read at all, an unknown trustee says expansion is off', () => {
    const d = run([fa('Sales-Team')], [], false);
    expect(d.warnings).toEqual([expect.objectContaining({ code: 'unresolved-trustee', subject: 'Sales-Team', message: expect.stringMatching(/group expansion is off/) })]);
  });

  it('maps members by externalDirectoryObjectId, then guid, then UPN, then SMTP = UPN', () => {
    const grp = xgroup('Mixed', [
      { name: 'a', externalDirectoryObjectId: alice.externalDirectoryObjectId!.toUpperCase() },
      { name: 'b', guid: bob.guid },
      { name: 'c', userPrincipalName: 'CAROL@contoso.com' },
      { name: 'd', primarySmtpAddress: 'dave@contoso.com', recipientTypeDetails: 'UserMailbox' },
    ]);
    const d = run([fa('Mixed')], [grp]);
    expect(brief(d.mailboxes[0]!.holders)).toEqual([
      'alice@contoso.com via:Mixed',
      'Bob@Contoso.com via:Mixed',
      'carol@contoso.com via:Mixed',
      'dave@contoso.com via:Mixed',
    ]);
  });

  it('an unmappable member is a warning mentioning the group', () => {
    const grp = xgroup('Sales-Team', [userMember(alice), { name: 'Ext Contact', primarySmtpAddress: 'x@fabrikam.com', recipientTypeDetails: 'MailContact' }]);
    const d = run([fa('Sales-Team')], [grp]);
    expect(brief(d.mailboxes[0]!.holders)).toEqual(['alice@contoso.com via:Sales-Team']);
    expect(d.mailboxes[0]!.unknown).toEqual([]);
    expect(d.warnings).toEqual([
      expect.objectContaining({ code: 'unresolved-trustee', mailbox: 'shared@contoso.com', subject: 'Ext Contact', message: expect.stringContaining("'Sales-Team'") }),
    ]);
  });

  it('expands nested groups with provenance and stops at a cycle', () => {
    const outer = xgroup('Outer', []);
    const inner = xgroup('Inner', []);
    outer.members = [userMember(alice), groupMember(inner)];
    inner.members = [userMember(bob), groupMember(outer)]; // cycle back to Outer
    const d = run([fa('Outer')], [outer, inner]);
    expect(brief(d.mailboxes[0]!.holders)).toEqual(['alice@contoso.com via:Outer', 'Bob@Contoso.com via:Outer>Inner']);
    expect(d.warnings).toEqual([]);
    // Entering the cycle from the other side gives the mirrored chains.
    const d2 = run([fa('Inner')], [outer, inner]);
    expect(brief(d2.mailboxes[0]!.holders)).toEqual(['alice@contoso.com via:Inner>Outer', 'Bob@Contoso.com via:Inner']);
  });

  it('a self-member group terminates', () => {
    const loop = xgroup('Loop', []);
    loop.members = [groupMember(loop), userMember(carol)];
    expect(brief(run([fa('Loop')], [loop]).mailboxes[0]!.holders)).toEqual(['carol@contoso.com via:Loop']);
  });

  it('one holder reached several ways carries direct and every chain, sorted and deduped', () => {
    const b = xgroup('B-Group', [userMember(alice)]);
    const a = xgroup('A-Group', [userMember(alice), groupMember(b)]);
    const d = run([fa('B-Group'), fa('alice@contoso.com'), fa('A-Group'), fa('a-group')], [a, b]);
    expect(d.mailboxes[0]!.holders).toEqual([
      { userPrincipalName: 'alice@contoso.com', displayName: 'Alice', direct: true, via: [['A-Group'], ['A-Group', 'B-Group'], ['B-Group']] },
    ]);
  });

  it('a group whose member read failed makes the mailbox incomplete', () => {
    const broken = xgroup('Broken', null, { memberError: 'GET members → 500' });
    const d = run([fa('Broken'), fa('alice@contoso.com')], [broken]);
    expect(d.mailboxes[0]!.unknown).toEqual([{ subject: 'Broken', reason: 'members could not be read' }]);
    expect(brief(d.mailboxes[0]!.holders)).toEqual(['alice@contoso.com direct']);
    expect(d.warnings).toEqual([expect.objectContaining({ code: 'group-read-failed', subject: 'Broken', message: expect.stringContaining('500') })]);
  });

  it('a nested group whose member read failed makes the mailbox incomplete', () => {
    const inner = xgroup('Inner', null);
    const outer = xgroup('Outer', [userMember(alice), groupMember(inner)]);
    const d = run([fa('Outer')], [outer, inner]);
    expect(d.mailboxes[0]!.unknown).toEqual([{ subject: 'Inner', reason: 'members could not be read' }]);
    expect(d.warnings.map((w) => [w.code, w.subject])).toEqual([['group-read-failed', 'Inner']]);
    expect(d.warnings[0]!.message).toContain('Outer > Inner');
  });

  it('a nested group that was not read at all makes the mailbox incomplete', () => {
    const outer = xgroup('Outer', [userMember(alice), { name: 'Missing', guid: 'nope', recipientTypeDetails: 'MailUniversalSecurityGroup' }]);
    const d = run([fa('Outer')], [outer]);
    expect(d.mailboxes[0]!.unknown).toEqual([{ subject: 'Missing', reason: "member of 'Outer': a nested group that was not read" }]);
    expect(d.warnings.map((w) => [w.code, w.subject])).toEqual([['group-read-failed', 'Missing']]);
  });

  it('pathologically deep nesting stops with a warning and an incomplete mailbox', () => {
    const chain = Array.from({ length: 80 }, (_, i) => xgroup(`Level-${i}`, [userMember(alice)]));
    for (let i = 0; i < chain.length - 1; i++) chain[i]!.members!.push(groupMember(chain[i + 1]!));
    const d = run([fa('Level-0'), fa('bob@contoso.com')], chain);
    expect(d.mailboxes[0]!.unknown).toEqual([{ subject: 'Level-0', reason: 'nesting too deep or too wide to expand' }]);
    expect(brief(d.mailboxes[0]!.holders)).toEqual(['Bob@Contoso.com direct']);
    expect(d.warnings).toEqual([expect.objectContaining({ code: 'group-read-failed', subject: 'Level-0', message: expect.stringContaining('too deep or too wide') })]);
  });

  it('many diamonds (exponentially many paths) stop with a warning', () => {
    // 20 layers of two groups, each member of both groups of the next layer: 2^20 paths.
    const layers = Array.from({ length: 20 }, (_, i) => [xgroup(`L${i}a`, []), xgroup(`L${i}b`, [])]);
    for (let i = 0; i < layers.length - 1; i++) for (const grp of layers[i]!) grp.members = layers[i + 1]!.map(groupMember);
    for (const grp of layers[layers.length - 1]!) grp.members = [userMember(carol)];
    const top = xgroup('Top', layers[0]!.map(groupMember));
    const d = run([fa('Top')], [top, ...layers.flat()]);
    expect(d.mailboxes[0]!.unknown).toEqual([{ subject: 'Top', reason: 'nesting too deep or too wide to expand' }]);
    expect(d.warnings.map((w) => w.code)).toEqual(['group-read-failed']);
  });

  it('a trustee matching several groups is a warning', () => {
    const g1 = xgroup('Team', [userMember(alice)], { guid: 'g1' });
    const g2 = xgroup('team', [userMember(bob)], { guid: 'g2' });
    const d = run([fa('TEAM')], [g1, g2]);
    expect(d.mailboxes[0]!.holders).toEqual([]);
    expect(d.warnings).toEqual([expect.objectContaining({ code: 'unresolved-trustee', message: expect.stringContaining('several groups') })]);
  });

  it('a user UPN wins over a group with the same name', () => {
    const grp = xgroup('alice@contoso.com', [userMember(bob)]);
    expect(brief(run([fa('alice@contoso.com')], [grp]).mailboxes[0]!.holders)).toEqual(['alice@contoso.com direct']);
  });

  it('group expansion warnings are raised per mailbox and deduplicated', () => {
    const grp = xgroup('G', [userMember(alice), { name: 'contact', recipientTypeDetails: 'MailContact' }]);
    const d = computeDesiredState(
      snapshot([mailbox('One', 'one@contoso.com', [fa('G'), fa('g')]), mailbox('Two', 'two@contoso.com', [fa('G')])], USERS, [grp]),
      opts(),
    );
    expect(d.warnings.map((w) => `${w.code} ${w.mailbox} ${w.subject}`)).toEqual([
      'unresolved-trustee one@contoso.com contact',
      'unresolved-trustee two@contoso.com contact',
    ]);
  });
});

describe('computeDesiredState: warnings order', () => {
  it('sorts warnings by code, mailbox, subject, message', () => {
    const d = computeDesiredState(
      snapshot(
        [
          mailbox('Z', 'z@contoso.com', [fa('zed@x'), fa('abe@x')]),
          mailbox('A', 'a@contoso.com', [fa('zed@x')]),
          mailbox('M', 'm@contoso.com', null),
        ],
        USERS,
      ),
      opts(),
    );
    expect(d.warnings.map((w) => `${w.code} ${w.mailbox} ${w.subject}`)).toEqual([
      'incomplete-read m@contoso.com m@contoso.com',
      'unresolved-trustee a@contoso.com zed@x',
      'unresolved-trustee z@contoso.com abe@x',
      'unresolved-trustee z@contoso.com zed@x',
    ]);
  });
});
