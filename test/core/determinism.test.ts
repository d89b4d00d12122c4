import { describe, expect, it } from 'vitest';
import { computeDesiredState, computeDiff } from '../../src/core/index.js';
import { shuffleTenant, type Tenant } from './arbitraries.js';
import { fa, groupMember, hgroup, huser, mailbox, opts, userMember, xgroup, xuser } from './fixtures.js';

/** One tenant with a bit of everything, to pin byte-identical output. */
function tenant(): Tenant {
  const users = ['alice', 'Bob', 'carol', 'dave', 'erin'].map((n) => xuser(`${n}@contoso.com`));
  const [, , carol, dave, erin] = users as ReturnType<typeof xuser>[] as [unknown, unknown, ReturnType<typeof xuser>, ReturnType<typeof xuser>, ReturnType<typeof xuser>];
  const inner = xgroup('Inner', [userMember(dave)]);
  const outer = xgroup('Outer', [userMember(carol), groupMember(inner)]);
  inner.members!.push(groupMember(outer));
  const hUsers = users.map((u) => huser(u.userPrincipalName));
  const guid = (i: number) => hUsers[i]!.userGuid;
  return {
    exchange: {
      users,
      groups: [outer, inner, xgroup('Broken', null)],
      mailboxes: [
        mailbox('Sales', 'sales@contoso.com', [fa('alice@contoso.com'), fa('Outer'), fa('NT AUTHORITY\\SELF'), fa('ghost@contoso.com'), fa('bob@contoso.com', { deny: 'True' })]),
        mailbox('Café Team', 'cafe@contoso.com', [fa('BOB@contoso.com'), fa('erin@contoso.com')]),
        mailbox('HR', 'hr@contoso.com', [fa('Broken'), fa('alice@contoso.com')]),
        mailbox('Support', 'support@contoso.com', null),
        mailbox('Nowhere', 'nowhere@contoso.com', [fa('alice@contoso.com')]),
      ],
    },
    helloid: {
      users: hUsers.filter((u) => u.userName !== erin.userPrincipalName),
      groups: [
        hgroup('Sales Resource Owners', [guid(1), guid(0), 'ffffffff-0000-0000-0000-000000000000']),
        hgroup('Cafe Team Resource Owners', [guid(0)], { source: null }),
        hgroup('HR Resource Owners', [guid(3)]),
        hgroup('Support Resource Owners', [guid(2)]),
        hgroup('Sales Resource Owners', [guid(4)], { source: 'AzureAD' }),
      ],
    },
    opts: opts({ protectedUsers: ['ALICE@contoso.com'] }),
  };
}

describe('determinism', () => {
  const run = (t: Tenant) => {
    const desired = computeDesiredState(t.exchange, t.opts);
    return { desired, diff: computeDiff(desired, t.helloid, t.opts) };
  };

  it('identical input gives identical output', () => {
    const a = run(tenant());
    const b = run(tenant());
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it.each([1, 2, 3, 42, 1234567])('shuffled input (seed %i) gives identical output', (seed) => {
    const a = run(tenant());
    const b = run(shuffleTenant(tenant(), seed));
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('does not mutate its input', () => {
    const t = tenant();
    const before = JSON.stringify(t);
    run(t);
    expect(JSON.stringify(t)).toBe(before);
  });

  it('pins the plan for the mixed tenant', () => {
    const { diff } = run(tenant());
    // Written by hand from spec §3: Sales has an unresolved trustee (ghost) and Café Team a
    // holder without a HelloID user (erin), so neither group loses anyone (rule 6).
    expect(diff.changes.map((c) => `${c.action} ${c.groupName} ${c.userName} (${c.reason})`)).toEqual([
      'add Cafe Team Resource Owners Bob@contoso.com (FullAccess (direct))',
      'add HR Resource Owners alice@contoso.com (FullAccess (direct))',
      'add Sales Resource Owners carol@contoso.com (FullAccess via group Outer)',
      'add Sales Resource Owners dave@contoso.com (FullAccess via group Outer > Inner)',
    ]);
    expect(diff.kept.map((k) => `${k.groupName} ${k.userName}: ${k.reason}`)).toEqual([
      'Cafe Team Resource Owners alice@contoso.com: protected user',
      'HR Resource Owners dave@contoso.com: removals held: holders of hr@contoso.com not fully known: Broken (members could not be read)',
      'Sales Resource Owners Bob@contoso.com: removals held: holders of sales@contoso.com not fully known: ghost@contoso.com (neither a known user (UPN) nor a group Exchange could find)',
      'Sales Resource Owners ffffffff-0000-0000-0000-000000000000: not a HelloID user (absent from the user list and GET /users/{guid}: a deleted user?)',
      'Support Resource Owners carol@contoso.com: removals held: holders of support@contoso.com not fully known: support@contoso.com (FullAccess permissions could not be read)',
    ]);
    expect(diff.warnings.map((w) => `${w.code} ${w.mailbox} ${w.subject}`)).toEqual([
      'group-read-failed hr@contoso.com Broken',
      'incomplete-read support@contoso.com support@contoso.com',
      'no-helloid-user cafe@contoso.com erin@contoso.com',
      'no-owner-group nowhere@contoso.com Nowhere Resource Owners',
      'unknown-helloid-member sales@contoso.com ffffffff-0000-0000-0000-000000000000',
      'unresolved-trustee sales@contoso.com ghost@contoso.com',
    ]);
  });
});
