import { describe, expect, it } from 'vitest';
import {
  computeDesiredState,
  computeDiff,
  type DiffResult,
  type ExchangeSnapshot,
  type HelloIdSnapshot,
  type SyncOptions,
} from '../../src/core/index.js';
import { fa, g, groupMember, helloid, hgroup, huser, mailbox, opts, snapshot, userMember, xgroup, xuser } from './fixtures.js';

const alice = xuser('alice@contoso.com');
const bob = xuser('bob@contoso.com');
const carol = xuser('carol@contoso.com');
const USERS = [alice, bob, carol];

const hAlice = huser('Alice@Contoso.com', g('alice'));
const hBob = huser('bob@contoso.com', g('bob'));
const hCarol = huser('carol@contoso.com', g('carol'));
const H_USERS = [hAlice, hBob, hCarol];

function diff(ex: ExchangeSnapshot, hid: HelloIdSnapshot, o: SyncOptions = opts()): DiffResult {
  return computeDiff(computeDesiredState(ex, o), hid, o);
}

/** Changes as "action group user" lines. */
function lines(r: DiffResult): string[] {
  return r.changes.map((c) => `${c.action} ${c.groupName} ${c.userName}`);
}
function keptLines(r: DiffResult): string[] {
  return r.kept.map((k) => `${k.groupName} ${k.userName}: ${k.reason}`);
}

describe('computeDiff: per (group, user) pair', () => {
  it('adds a user already owning A to B, and removes a user still owning B from A', () => {
    // alice holds A and B; bob holds only B but sits in A's group. The original task
    // keyed the diff on the user alone and got both of these wrong.
    const ex = snapshot(
      [mailbox('A', 'a@contoso.com', [fa('alice@contoso.com')]), mailbox('B', 'b@contoso.com', [fa('alice@contoso.com'), fa('bob@contoso.com')])],
      USERS,
    );
    const hid = helloid(H_USERS, [hgroup('A Resource Owners', [hAlice.userGuid, hBob.userGuid]), hgroup('B Resource Owners', [hBob.userGuid])]);
    const r = diff(ex, hid);
    expect(lines(r)).toEqual(['remove A Resource Owners bob@contoso.com', 'add B Resource Owners Alice@Contoso.com']);
    expect(r.changes[0]).toEqual({
      action: 'remove',
      groupGuid: g('hg:A Resource Owners'),
      groupName: 'A Resource Owners',
      userGuid: hBob.userGuid,
      userName: 'bob@contoso.com',
      mailbox: 'a@contoso.com',
      reason: 'no longer holds FullAccess on a@contoso.com',
    });
    expect(r.changes[1]).toMatchObject({ mailbox: 'b@contoso.com', reason: 'FullAccess (direct)' });
    expect(r.groups.map((x) => [x.groupName, x.observedMembers, x.plannedMembers])).toEqual([
      ['A Resource Owners', [hAlice.userGuid, hBob.userGuid].sort(), [hAlice.userGuid]],
      ['B Resource Owners', [hBob.userGuid], [hAlice.userGuid, hBob.userGuid].sort()],
    ]);
    expect(r.warnings).toEqual([]);
    expect(r.limitViolations).toEqual([]);
  });

  it('no changes when HelloID already matches', () => {
    const ex = snapshot([mailbox('A', 'a@contoso.com', [fa('alice@contoso.com'), fa('bob@contoso.com')])], USERS);
    const r = diff(ex, helloid(H_USERS, [hgroup('A Resource Owners', [hBob.userGuid, hAlice.userGuid])]));
    expect(r.changes).toEqual([]);
    expect(r.kept).toEqual([]);
    expect(r.groups).toHaveLength(1);
    expect(r.groups[0]!.plannedMembers).toEqual(r.groups[0]!.observedMembers);
    expect(r.groups[0]!.holdReasons).toEqual([]);
  });

  it('gives group-granted reasons with the chain', () => {
    const inner = xgroup('Inner', [userMember(carol)]);
    const sales = xgroup('Sales-Team', [userMember(bob), groupMember(inner)]);
    const ex = snapshot([mailbox('A', 'a@contoso.com', [fa('Sales-Team'), fa('bob@contoso.com')])], USERS, [sales, inner]);
    const r = diff(ex, helloid(H_USERS, [hgroup('A Resource Owners', [])]));
    expect(r.changes.map((c) => `${c.userName}: ${c.reason}`)).toEqual([
      'bob@contoso.com: FullAccess (direct); FullAccess via group Sales-Team',
      'carol@contoso.com: FullAccess via group Sales-Team > Inner',
    ]);
  });

  it('matches UPN to userName case-insensitively and compares guids case-insensitively', () => {
    const ex = snapshot([mailbox('A', 'a@contoso.com', [fa('ALICE@contoso.com')])], [xuser('ALICE@CONTOSO.COM')]);
    const r = diff(ex, helloid([huser('alice@contoso.com', 'ABC-1')], [hgroup('a resource owners', ['abc-1'], { groupGuid: 'GRP-1' })]));
    expect(r.changes).toEqual([]);
    expect(r.groups[0]!.groupGuid).toBe('grp-1');
    expect(r.groups[0]!.observedMembers).toEqual(['abc-1']);
  });

  it('normalises guids to lower case in changes', () => {
    const ex = snapshot([mailbox('A', 'a@contoso.com', [fa('alice@contoso.com')])], USERS);
    const r = diff(ex, helloid([huser('alice@contoso.com', 'ABC-1'), huser('zed@contoso.com', 'XYZ-9')], [hgroup('A Resource Owners', ['XYZ-9'], { groupGuid: 'GRP-1' })]));
    expect(r.changes.map((c) => [c.action, c.groupGuid, c.userGuid, c.userName])).toEqual([
      ['add', 'grp-1', 'abc-1', 'alice@contoso.com'],
      ['remove', 'grp-1', 'xyz-9', 'zed@contoso.com'],
    ]);
    expect(r.groups[0]!.plannedMembers).toEqual(['abc-1']);
  });

  it('a member guid HelloID does not know as a user (deleted) is kept, shown by guid, with a warning (spec §3 rule 6)', () => {
    const ex = snapshot([mailbox('A', 'a@contoso.com', [fa('bob@contoso.com')])], USERS);
    const ghost = '00000000-dead-beef-0000-000000000000';
    const r = diff(ex, helloid(H_USERS, [hgroup('A Resource Owners', [ghost.toUpperCase(), hBob.userGuid])]));
    expect(lines(r)).toEqual([]);
    expect(keptLines(r)).toEqual([`A Resource Owners ${ghost}: not a HelloID user (absent from the user list and GET /users/{guid}: a deleted user?)`]);
    expect(r.warnings.map((w) => [w.code, w.subject])).toEqual([['unknown-helloid-member', ghost]]);
    expect(r.groups[0]!.plannedMembers).toEqual([ghost, hBob.userGuid].sort());
  });

  it('a member whose own lookup failed is kept, and the warning says the lookup failed', () => {
    const ex = snapshot([mailbox('A', 'a@contoso.com', [fa('bob@contoso.com')])], USERS);
    const ghost = '00000000-dead-beef-0000-000000000001';
    const hid = { ...helloid(H_USERS, [hgroup('A Resource Owners', [ghost, hBob.userGuid])]), failedUserLookups: [{ userGuid: ghost, error: 'GET /api/v1/users/x failed: 503' }] };
    const r = diff(ex, hid);
    expect(lines(r)).toEqual([]);
    expect(keptLines(r)).toEqual([`A Resource Owners ${ghost}: not in HelloID's user list, and looking it up failed (GET /api/v1/users/x failed: 503)`]);
  });

  it('diacritics: mailbox "Café Team" uses group "Cafe Team Resource Owners"', () => {
    const ex = snapshot([mailbox('Café Team', 'cafe@contoso.com', [fa('alice@contoso.com')])], USERS);
    const r = diff(ex, helloid(H_USERS, [hgroup('Cafe Team Resource Owners', [])]));
    expect(lines(r)).toEqual(['add Cafe Team Resource Owners Alice@Contoso.com']);
  });

  it('diacritics: an exact match wins over a folded one', () => {
    const ex = snapshot([mailbox('Café Team', 'cafe@contoso.com', [fa('alice@contoso.com')])], USERS);
    const r = diff(ex, helloid(H_USERS, [hgroup('Cafe Team Resource Owners', []), hgroup('Café Team Resource Owners', [])]));
    expect(lines(r)).toEqual(['add Café Team Resource Owners Alice@Contoso.com']);
    expect(r.warnings).toEqual([]);
  });
});

describe('computeDiff: groups and users that do not match', () => {
  const ex = snapshot([mailbox('A', 'a@contoso.com', [fa('alice@contoso.com')])], USERS);

  it('no owner group → warning, mailbox skipped', () => {
    const r = diff(ex, helloid(H_USERS, [hgroup('B Resource Owners', [hAlice.userGuid])]));
    expect(r.changes).toEqual([]);
    expect(r.groups).toEqual([]);
    expect(r.warnings).toEqual([
      {
        code: 'no-owner-group',
        mailbox: 'a@contoso.com',
        subject: 'A Resource Owners',
        message: "no HelloID group named 'A Resource Owners' with source 'Local' (also tried without diacritics); mailbox a@contoso.com skipped",
      },
    ]);
  });

  it('ambiguous owner group → warning listing the candidates, mailbox skipped', () => {
    const r = diff(ex, helloid(H_USERS, [hgroup('A Resource Owners', [], { groupGuid: 'G1' }), hgroup('a resource owners', [], { groupGuid: 'g2' })]));
    expect(r.changes).toEqual([]);
    expect(r.groups).toEqual([]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({ code: 'ambiguous-owner-group', mailbox: 'a@contoso.com' });
    expect(r.warnings[0]!.message).toContain("'A Resource Owners' (g1), 'a resource owners' (g2)");
  });

  it.each([
    ['another source is ignored', 'AzureAD', 'none'],
    ['null source is Local', null, 'match'],
    ['empty source is Local', '', 'match'],
    ['source compared case-insensitively', 'LOCAL', 'match'],
  ])('%s', (_n, source, outcome) => {
    const r = diff(ex, helloid(H_USERS, [hgroup('A Resource Owners', [], { source })]));
    expect(r.groups.length).toBe(outcome === 'match' ? 1 : 0);
    expect(r.warnings.map((w) => w.code)).toEqual(outcome === 'match' ? [] : ['no-owner-group']);
  });

  it('a configured non-Local source', () => {
    const r = diff(ex, helloid(H_USERS, [hgroup('A Resource Owners', [], { source: 'azuread' })]), opts({ groupSource: 'AzureAD' }));
    expect(lines(r)).toEqual(['add A Resource Owners Alice@Contoso.com']);
  });

  it('a holder without HelloID user → warning naming UPN and mailbox, no change', () => {
    const ex2 = snapshot([mailbox('A', 'a@contoso.com', [fa('alice@contoso.com'), fa('carol@contoso.com')])], USERS);
    const r = diff(ex2, helloid([hAlice], [hgroup('A Resource Owners', [])]));
    expect(lines(r)).toEqual(['add A Resource Owners Alice@Contoso.com']);
    expect(r.warnings).toEqual([
      expect.objectContaining({ code: 'no-helloid-user', mailbox: 'a@contoso.com', subject: 'carol@contoso.com', message: expect.stringContaining('carol@contoso.com') }),
    ]);
  });

  it('two HelloID users with the same userName → warning, no change', () => {
    const r = diff(ex, helloid([huser('alice@contoso.com', 'u1'), huser('ALICE@contoso.com', 'u2')], [hgroup('A Resource Owners', [])]));
    expect(r.changes).toEqual([]);
    expect(r.warnings).toEqual([expect.objectContaining({ code: 'no-helloid-user', message: expect.stringContaining('u1, u2') })]);
  });

  it('two mailboxes mapping to one group: union of holders, one warning', () => {
    const ex2 = snapshot(
      [
        mailbox('SALES', 'sales2@contoso.com', [fa('bob@contoso.com'), fa('alice@contoso.com')], { guid: '2' }),
        mailbox('Sales', 'sales1@contoso.com', [fa('alice@contoso.com')], { guid: '1' }),
      ],
      USERS,
    );
    const r = diff(ex2, helloid(H_USERS, [hgroup('Sales Resource Owners', [hCarol.userGuid])]));
    expect(lines(r)).toEqual([
      'add Sales Resource Owners Alice@Contoso.com',
      'add Sales Resource Owners bob@contoso.com',
      'remove Sales Resource Owners carol@contoso.com',
    ]);
    expect(r.changes[0]!.reason).toBe('FullAccess (direct) on sales1@contoso.com; FullAccess (direct) on sales2@contoso.com');
    expect(r.changes[1]!.mailbox).toBe('sales2@contoso.com');
    expect(r.changes[2]!.reason).toBe('no longer holds FullAccess on sales1@contoso.com, sales2@contoso.com');
    expect(r.groups).toHaveLength(1);
    expect(r.warnings).toEqual([expect.objectContaining({ code: 'ambiguous-owner-group', subject: 'Sales Resource Owners', message: expect.stringContaining('union') })]);
  });
});

describe('computeDiff: removal gates', () => {
  const ex = snapshot([mailbox('A', 'a@contoso.com', [fa('alice@contoso.com')])], USERS);
  const hid = helloid(H_USERS, [hgroup('A Resource Owners', [hAlice.userGuid, hBob.userGuid, hCarol.userGuid])]);

  it('removeMembers false → kept', () => {
    const r = diff(ex, hid, opts({ removeMembers: false }));
    expect(r.changes).toEqual([]);
    expect(keptLines(r)).toEqual(['A Resource Owners bob@contoso.com: removeMembers is false', 'A Resource Owners carol@contoso.com: removeMembers is false']);
    expect(r.groups[0]!.plannedMembers).toEqual(r.groups[0]!.observedMembers);
  });

  it('protected users are kept (userName compared case-insensitively)', () => {
    const r = diff(ex, hid, opts({ protectedUsers: ['BOB@contoso.com'] }));
    expect(lines(r)).toEqual(['remove A Resource Owners carol@contoso.com']);
    expect(keptLines(r)).toEqual(['A Resource Owners bob@contoso.com: protected user']);
  });

  it.each([
    [
      'mailbox permissions not read',
      snapshot([mailbox('A', 'a@contoso.com', null)], USERS),
      hid,
      'removals held: holders of a@contoso.com not fully known: a@contoso.com (FullAccess permissions could not be read)',
    ],
    [
      'Exchange group members not read',
      snapshot([mailbox('A', 'a@contoso.com', [fa('alice@contoso.com'), fa('Broken')])], USERS, [xgroup('Broken', null)]),
      hid,
      'removals held: holders of a@contoso.com not fully known: Broken (members could not be read)',
    ],
  ])('incomplete read (%s) → no removals in that group, adds still planned', (_n, ex2, hid2, reason) => {
    const other = mailbox('Other', 'o@contoso.com', [fa('bob@contoso.com')]);
    const r = diff({ ...ex2, mailboxes: [...ex2.mailboxes, other] }, { ...hid2, groups: [...hid2.groups, hgroup('Other Resource Owners', [hCarol.userGuid])] });
    const groupA = r.groups.find((x) => x.groupName === 'A Resource Owners')!;
    expect(groupA.holdReasons).not.toEqual([]);
    expect(r.kept.length).toBeGreaterThan(0);
    expect(r.changes.filter((c) => c.groupName === 'A Resource Owners' && c.action === 'remove')).toEqual([]);
    for (const k of r.kept) expect(k.reason).toBe(reason);
    // The other, complete group still gets its removal.
    expect(lines(r).filter((l) => l.includes('Other'))).toEqual(['add Other Resource Owners bob@contoso.com', 'remove Other Resource Owners carol@contoso.com']);
    expect(r.warnings.some((w) => w.code === 'incomplete-read' || w.code === 'group-read-failed')).toBe(true);
  });

  it('HelloID group not read: nothing is planned for it (apply could not verify it)', () => {
    const r = diff(ex, helloid(H_USERS, [hgroup('A Resource Owners', null)]));
    expect(lines(r)).toEqual([]);
    expect(r.groups[0]).toMatchObject({ observedMembers: [], plannedMembers: [], holdReasons: ['its HelloID members could not be read'] });
    expect(r.warnings).toEqual([expect.objectContaining({ code: 'incomplete-read', subject: 'A Resource Owners' })]);
  });
});

describe('computeDiff: ordering and outputs', () => {
  it('sorts changes by group name, then user name (case-insensitive), then action; kept likewise', () => {
    const ex = snapshot(
      [
        mailbox('beta', 'b@contoso.com', [fa('carol@contoso.com'), fa('alice@contoso.com')]),
        mailbox('Alpha', 'a@contoso.com', [fa('bob@contoso.com')]),
      ],
      USERS,
    );
    const hid = helloid(H_USERS, [hgroup('beta Resource Owners', [hBob.userGuid]), hgroup('Alpha Resource Owners', [hCarol.userGuid, hAlice.userGuid])]);
    const r = diff(ex, hid);
    expect(lines(r)).toEqual([
      'remove Alpha Resource Owners Alice@Contoso.com',
      'add Alpha Resource Owners bob@contoso.com',
      'remove Alpha Resource Owners carol@contoso.com',
      'add beta Resource Owners Alice@Contoso.com',
      'remove beta Resource Owners bob@contoso.com',
      'add beta Resource Owners carol@contoso.com',
    ]);
    expect(r.groups.map((x) => x.groupName)).toEqual(['Alpha Resource Owners', 'beta Resource Owners']);
    const kept = diff(ex, hid, opts({ removeMembers: false }));
    expect(keptLines(kept).map((l) => l.split(':')[0])).toEqual([
      'Alpha Resource Owners Alice@Contoso.com',
      'Alpha Resource Owners carol@contoso.com',
      'beta Resource Owners bob@contoso.com',
    ]);
  });

  it('lists every matched group, changed or not, with mailbox identity', () => {
    const ex = snapshot([mailbox('Quiet', 'q@contoso.com', [fa('alice@contoso.com')])], USERS);
    const r = diff(ex, helloid(H_USERS, [hgroup('Quiet Resource Owners', [hAlice.userGuid]), hgroup('Unrelated', [hBob.userGuid])]));
    expect(r.groups).toEqual([
      {
        groupGuid: g('hg:Quiet Resource Owners'),
        groupName: 'Quiet Resource Owners',
        mailbox: 'q@contoso.com',
        observedMembers: [hAlice.userGuid],
        plannedMembers: [hAlice.userGuid],
        holdReasons: [],
      },
    ]);
  });

  it('fills limitViolations', () => {
    const ex = snapshot([mailbox('A', 'a@contoso.com', [])], USERS);
    const r = diff(ex, helloid(H_USERS, [hgroup('A Resource Owners', [hAlice.userGuid, hBob.userGuid])]), opts({ limits: { maxRemovals: 1, maxRemovalPercent: 100, allowEmptyingGroups: false } }));
    expect(r.limitViolations.map((v) => v.rule)).toEqual(['maxRemovals', 'allowEmptyingGroups']);
  });
});
