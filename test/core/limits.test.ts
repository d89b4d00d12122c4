import { describe, expect, it } from 'vitest';
import { checkLimits, type Change, type ManagedGroup, type RemovalLimits } from '../../src/core/index.js';

function group(guid: string, observed: string[], planned: string[] = observed): ManagedGroup {
  return { groupGuid: guid, groupName: `Group ${guid.toUpperCase()}`, mailbox: `${guid}@contoso.com`, observedMembers: observed, plannedMembers: planned, holdReasons: [] };
}
function change(action: Change['action'], groupGuid: string, userGuid: string): Change {
  return { action, groupGuid, groupName: `Group ${groupGuid.toUpperCase()}`, userGuid, userName: userGuid, mailbox: `${groupGuid}@contoso.com`, reason: '' };
}
const OPEN: RemovalLimits = { maxRemovals: 1000, maxRemovalPercent: 100, allowEmptyingGroups: true };

const members = (n: number, prefix = 'u'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

describe('checkLimits', () => {
  type Case = { name: string; groups: ManagedGroup[]; changes: Change[]; limits: Partial<RemovalLimits>; expect: string[] };
  const g10 = group('a', members(10));
  const removes = (n: number, guid = 'a') => members(n).map((u) => change('remove', guid, u));
  const cases: Case[] = [
    { name: 'nothing to check', groups: [], changes: [], limits: { maxRemovals: 0, maxRemovalPercent: 0, allowEmptyingGroups: false }, expect: [] },
    { name: 'adds never count', groups: [group('a', [])], changes: [change('add', 'a', 'x')], limits: { maxRemovals: 0, maxRemovalPercent: 0, allowEmptyingGroups: false }, expect: [] },
    { name: 'removals at maxRemovals pass', groups: [g10], changes: removes(3), limits: { maxRemovals: 3 }, expect: [] },
    { name: 'removals above maxRemovals fail', groups: [g10], changes: removes(4), limits: { maxRemovals: 3 }, expect: ['maxRemovals: 4 removals exceed sync.limits.maxRemovals (3)'] },
    { name: 'percent at the limit passes', groups: [g10], changes: removes(3), limits: { maxRemovalPercent: 30 }, expect: [] },
    {
      name: 'percent above the limit fails',
      groups: [g10, group('b', members(10, 'b'))],
      changes: removes(6),
      limits: { maxRemovalPercent: 25 },
      expect: ['maxRemovalPercent: 6 removals are 30% of the 20 current members of managed groups, above sync.limits.maxRemovalPercent (25%)'],
    },
    {
      name: 'fractional percentages are shown with one decimal',
      groups: [group('a', members(3))],
      changes: removes(1),
      limits: { maxRemovalPercent: 25 },
      expect: ['maxRemovalPercent: 1 removal is 33.3% of the 3 current members of managed groups, above sync.limits.maxRemovalPercent (25%)'],
    },
    {
      name: 'emptying a group fails unless allowed',
      groups: [group('a', members(2)), group('b', members(2, 'b'))],
      changes: [...removes(2), change('remove', 'b', 'b000')],
      limits: { allowEmptyingGroups: false },
      expect: ["allowEmptyingGroups: removing all 2 members would leave group 'Group A' (a@contoso.com) empty; sync.limits.allowEmptyingGroups is false"],
    },
    { name: 'emptying allowed', groups: [group('a', members(2))], changes: removes(2), limits: { allowEmptyingGroups: true }, expect: [] },
    {
      // Issue 17 story 3: "every owner replaced at once" is what a bad read looks like.
      name: 'removing every member of a group of two counts as emptying it, even with an add',
      groups: [group('a', members(2))],
      changes: [...removes(2), change('add', 'a', 'new')],
      limits: { allowEmptyingGroups: false },
      expect: ["allowEmptyingGroups: removing all 2 current members of group 'Group A' (a@contoso.com) replaces every owner at once; sync.limits.allowEmptyingGroups is false"],
    },
    { name: 'a group of one handed over to another holder is allowed', groups: [group('a', members(1))], changes: [...removes(1), change('add', 'a', 'new')], limits: { allowEmptyingGroups: false }, expect: [] },
    {
      name: 'a group of one whose only member is removed without an add is emptied',
      groups: [group('a', members(1))],
      changes: removes(1),
      limits: { allowEmptyingGroups: false },
      expect: ["allowEmptyingGroups: removing the only member would leave group 'Group A' (a@contoso.com) empty; sync.limits.allowEmptyingGroups is false"],
    },
    { name: 'replacing every member is allowed with allowEmptyingGroups', groups: [group('a', members(3))], changes: [...removes(3), change('add', 'a', 'new')], limits: { allowEmptyingGroups: true }, expect: [] },
    { name: 'a group that was already empty is not emptied', groups: [group('a', [])], changes: [], limits: { allowEmptyingGroups: false }, expect: [] },
    {
      name: 'several violations in fixed order, emptied groups by name',
      groups: [group('b', members(1, 'b')), group('a', members(1))],
      changes: [change('remove', 'b', 'b000'), change('remove', 'A', 'U000')],
      limits: { maxRemovals: 1, maxRemovalPercent: 50, allowEmptyingGroups: false },
      expect: [
        'maxRemovals: 2 removals exceed sync.limits.maxRemovals (1)',
        'maxRemovalPercent: 2 removals are 100% of the 2 current members of managed groups, above sync.limits.maxRemovalPercent (50%)',
        "allowEmptyingGroups: removing the only member would leave group 'Group A' (a@contoso.com) empty; sync.limits.allowEmptyingGroups is false",
        "allowEmptyingGroups: removing the only member would leave group 'Group B' (b@contoso.com) empty; sync.limits.allowEmptyingGroups is false",
      ],
    },
  ];

  it.each(cases)('$name', (c) => {
    const v = checkLimits(c.groups, c.changes, { ...OPEN, ...c.limits });
    expect(v.map((x) => `${x.rule}: ${x.message}`)).toEqual(c.expect);
  });

  it('names the emptied group by guid', () => {
    const v = checkLimits([group('A-GUID', ['u1'])], [change('remove', 'a-guid', 'U1')], { ...OPEN, allowEmptyingGroups: false });
    expect(v).toEqual([expect.objectContaining({ rule: 'allowEmptyingGroups', groupGuid: 'a-guid' })]);
  });
});
