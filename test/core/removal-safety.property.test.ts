/**
 * Removal safety (spec §3 rule 6, issue 11) as a property, against an oracle that shares
 * no code with src/core: `possibleHolders` below is a deliberately plain reading of spec
 * §3, written for this test. Over random tenants with renamed users, duplicate userNames,
 * unresolved, on-premises and non-mail-enabled trustees, failed lookups and reads, deleted
 * HelloID users and owner groups shared with mailboxes outside the filter:
 *   - no planned removal names a HelloID user who could be a FullAccess holder;
 *   - every removal the oracle calls safe is planned.
 * Only the types are imported from src (and the two functions under test).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeDesiredState, computeDiff } from '../../src/core/index.js';
import type { ExchangeGroup, ExchangeSnapshot, ExchangeUser, GroupMember, HelloIdSnapshot, HelloIdUser, Mailbox, PermissionEntry, SyncOptions } from '../../src/core/index.js';

const SUFFIX = ' Resource Owners';

// ---------------------------------------------------------------------------------
// The oracle: spec §3 read plainly.

const EVERYONE = 'everyone' as const;
type Possible = typeof EVERYONE | Set<string>;

function isSystem(trustee: string): boolean {
  // NT AUTHORITY\*, deleted principals' SIDs, and forest admin groups such as NAMPR01A001\….
  return /^nt authority\\/i.test(trustee) || /^s-1-5-/i.test(trustee) || /^[a-z]{3}pr[0-9]{2}a[0-9]{3}\\/i.test(trustee);
}

function grantsFullAccess(row: PermissionEntry): boolean {
  const yes = (v: unknown): boolean => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');
  return row.accessRights.some((r) => r.toLowerCase() === 'fullaccess') && !yes(row.deny) && !yes(row.isInherited);
}

/** The Exchange UPNs that hold FullAccess on `mb`, or EVERYONE when they are not fully known. */
function holderUpns(mb: Mailbox, ex: ExchangeSnapshot, expandGroups: boolean): typeof EVERYONE | Set<string> {
  if (mb.permissions === null) return EVERYONE;
  const upns = new Set<string>();
  const userByUpn = (s: string) => ex.users.find((u) => u.userPrincipalName.toLowerCase() === s.toLowerCase());
  const failed = (s: string) => (ex.failedLookups ?? []).some((f) => f.identity.toLowerCase() === s.toLowerCase());
  const groupsNamed = (s: string) => ex.groups.filter((g) => g.name.toLowerCase() === s.toLowerCase());
  const expand = (g: ExchangeGroup, path: string[]): boolean => {
    if (g.members === null) return false;
    for (const m of g.members) {
      const byId = ex.users.find((u) => m.externalDirectoryObjectId !== undefined && u.externalDirectoryObjectId === m.externalDirectoryObjectId);
      const byName = m.externalDirectoryObjectId === undefined && m.guid === undefined ? ex.users.filter((u) => u.name === m.name) : [];
      if (byId) {
        upns.add(byId.userPrincipalName.toLowerCase());
        continue;
      }
      if (byName.length === 1) {
        upns.add((byName[0] as ExchangeUser).userPrincipalName.toLowerCase());
        continue;
      }
      if (byName.length > 1) return false;
      const nested = ex.groups.filter((x) => (m.guid !== undefined && x.guid === m.guid) || (m.guid === undefined && x.name === m.name));
      if (nested.length !== 1) return false;
      const n = nested[0] as ExchangeGroup;
      if (path.includes(n.name)) continue;
      if (!expand(n, [...path, n.name])) return false;
    }
    return true;
  };
  for (const row of mb.permissions) {
    if (!grantsFullAccess(row)) continue;
    const t = row.trustee.trim();
    if (isSystem(t)) continue;
    const user = userByUpn(t);
    if (user) {
      upns.add(user.userPrincipalName.toLowerCase());
      continue;
    }
    if (failed(t)) return EVERYONE;
    const named = groupsNamed(t);
    if (named.length !== 1 || !expandGroups) return EVERYONE;
    if (!expand(named[0] as ExchangeGroup, [(named[0] as ExchangeGroup).name])) return EVERYONE;
  }
  return upns;
}

/** Every HelloID user (GUID, lower case) who may hold FullAccess behind owner group `groupName`. */
function possibleHolders(groupName: string, t: Tenant): Possible {
  const mine = (displayName: string) => (displayName + SUFFIX).toLowerCase() === groupName.toLowerCase();
  if ((t.exchange.outsideFilter ?? []).some((m) => mine(m.displayName))) return EVERYONE;
  const out = new Set<string>();
  for (const mb of t.exchange.mailboxes.filter((m) => mine(m.displayName))) {
    const upns = holderUpns(mb, t.exchange, t.opts.expandGroups);
    if (upns === EVERYONE) return EVERYONE;
    for (const upn of upns) {
      const matches = t.helloid.users.filter((u) => u.userName.toLowerCase() === upn);
      if (matches.length !== 1) return EVERYONE; // renamed or duplicated: anyone may be this person
      out.add((matches[0] as HelloIdUser).userGuid.toLowerCase());
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Random tenants

interface Tenant {
  exchange: ExchangeSnapshot;
  helloid: HelloIdSnapshot;
  opts: SyncOptions;
}

const guid = (kind: string, i: number): string => `${kind}0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** How a person appears in HelloID. */
const helloIdFate = fc.constantFrom('same', 'same', 'same', 'upper', 'renamed', 'missing', 'duplicate');

const tenantArb: fc.Arbitrary<Tenant> = fc
  .record({
    fates: fc.array(helloIdFate, { minLength: 2, maxLength: 8 }),
    groupSpecs: fc.array(
      fc.record({
        kind: fc.constantFrom('mail', 'mail', 'security', 'failed-read'),
        members: fc.array(fc.nat(20), { maxLength: 4 }),
        nested: fc.option(fc.nat(5), { nil: undefined }),
        ghostMember: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
    mailboxSpecs: fc.array(
      fc.record({
        name: fc.nat(4),
        readFails: fc.boolean(),
        rows: fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('user' as const), i: fc.nat(20), deny: fc.boolean(), inherited: fc.boolean() }),
            fc.record({ kind: fc.constant('group' as const), i: fc.nat(5) }),
            fc.record({ kind: fc.constantFrom('ghost' as const, 'domain' as const, 'self' as const, 'sid' as const, 'forest' as const, 'failed' as const) }),
          ),
          { maxLength: 5 },
        ),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    members: fc.array(fc.array(fc.nat(20), { maxLength: 6 }), { minLength: 5, maxLength: 5 }),
    deletedMember: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    groupReadFails: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    outside: fc.option(fc.nat(4), { nil: undefined }),
    expandGroups: fc.boolean(),
    protectedUser: fc.option(fc.nat(20), { nil: undefined }),
  })
  .map((r) => {
    const n = r.fates.length;
    const users: ExchangeUser[] = r.fates.map((_, i) => ({ userPrincipalName: `u${i}@contoso.com`, name: `User ${i}`, externalDirectoryObjectId: guid('e', i), guid: guid('x', i) }));
    const hUsers: HelloIdUser[] = [];
    r.fates.forEach((fate, i) => {
      const upn = `u${i}@contoso.com`;
      if (fate === 'same') hUsers.push({ userGuid: guid('h', i), userName: upn });
      if (fate === 'upper') hUsers.push({ userGuid: guid('h', i), userName: upn.toUpperCase() });
      if (fate === 'renamed') hUsers.push({ userGuid: guid('h', i), userName: `old.u${i}@contoso.com` });
      if (fate === 'duplicate') hUsers.push({ userGuid: guid('h', i), userName: upn }, { userGuid: guid('d', i), userName: upn.toUpperCase() });
    });
    hUsers.push({ userGuid: guid('h', 99), userName: 'helloid.only@contoso.com' });
    const groups: ExchangeGroup[] = r.groupSpecs.map((spec, gi) => {
      const name = `Team-${gi}`;
      const member = (i: number): GroupMember =>
        spec.kind === 'security' ? { name: `User ${i % n}` } : { name: `User ${i % n}`, externalDirectoryObjectId: guid('e', i % n), recipientTypeDetails: 'UserMailbox' };
      const members: GroupMember[] = spec.members.map(member);
      if (spec.nested !== undefined && spec.nested < r.groupSpecs.length) {
        members.push(spec.kind === 'security' ? { name: `Team-${spec.nested}` } : { name: `Team-${spec.nested}`, guid: guid('g', spec.nested), recipientTypeDetails: 'MailUniversalSecurityGroup' });
      }
      if (spec.ghostMember) members.push({ name: 'Someone Unknown', recipientTypeDetails: 'UserMailbox' });
      return {
        name,
        guid: guid('g', gi),
        recipientTypeDetails: spec.kind === 'security' ? 'UniversalSecurityGroup' : 'MailUniversalSecurityGroup',
        members: spec.kind === 'failed-read' ? null : members,
      };
    });
    const row = (trustee: string, over: Partial<PermissionEntry> = {}): PermissionEntry => ({ trustee, accessRights: ['FullAccess'], isInherited: 'False', deny: 'False', ...over });
    const mailboxes: Mailbox[] = r.mailboxSpecs.map((spec, mi) => ({
      guid: guid('m', mi),
      displayName: `Box ${spec.name}`,
      primarySmtpAddress: `box${mi}@contoso.com`,
      permissions: spec.readFails
        ? null
        : spec.rows.map((x) => {
            if (x.kind === 'user') return row(`u${x.i % n}@contoso.com`, { deny: x.deny ? 'True' : 'False', isInherited: x.inherited ? 'True' : 'False' });
            if (x.kind === 'group') return row(x.i < groups.length ? `Team-${x.i}` : `Team-${x.i}-gone`);
            if (x.kind === 'ghost') return row('ghost.user@contoso.com');
            if (x.kind === 'domain') return row('CONTOSO\\Mailbox Owners');
            if (x.kind === 'self') return row('NT AUTHORITY\\SELF');
            if (x.kind === 'sid') return row('S-1-5-21-1111-2222-3333-1013');
            if (x.kind === 'forest') return row('NAMPR01A001\\Organization Management');
            return row('Lookup-Failed');
          }),
    }));
    const names = [...new Set(mailboxes.map((m) => m.displayName))];
    const hGroups = names.map((dn, gi) => {
      const members = (r.members[gi % 5] as number[]).map((i) => (i < hUsers.length ? (hUsers[i] as HelloIdUser).userGuid : guid('h', i % n)));
      if (r.deletedMember[gi % 5]) members.push(guid('z', gi));
      return { groupGuid: guid('q', gi), name: dn + SUFFIX, source: null, members: r.groupReadFails[gi % 5] && gi === 0 ? null : members };
    });
    const exchange: ExchangeSnapshot = { mailboxes, users, groups, failedLookups: [{ identity: 'Lookup-Failed', error: 'Get-Recipient failed: 500' }] };
    if (r.outside !== undefined) exchange.outsideFilter = [{ displayName: `Box ${r.outside}`, primarySmtpAddress: 'outside@contoso.com' }];
    const protectedUsers = r.protectedUser !== undefined && r.protectedUser < hUsers.length ? [(hUsers[r.protectedUser] as HelloIdUser).userName] : [];
    const opts: SyncOptions = {
      groupSource: 'Local',
      groupPrefix: '',
      groupSuffix: SUFFIX,
      removeMembers: true,
      protectedUsers,
      expandGroups: r.expandGroups,
      limits: { maxRemovals: 1_000_000, maxRemovalPercent: 100, allowEmptyingGroups: true },
    };
    return { exchange, helloid: { users: hUsers, groups: hGroups }, opts };
  });

describe('removal safety against an independent oracle (spec §3 rule 6)', () => {
  it('never removes a possible holder, and removes every member the oracle calls safe', () => {
    fc.assert(
      fc.property(tenantArb, (t) => {
        const diff = computeDiff(computeDesiredState(t.exchange, t.opts), t.helloid, t.opts);
        const known = new Set(t.helloid.users.map((u) => u.userGuid.toLowerCase()));
        const protectedNames = new Set(t.opts.protectedUsers.map((p) => p.toLowerCase()));
        for (const g of t.helloid.groups) {
          const possible = possibleHolders(g.name, t);
          const removed = new Set(diff.changes.filter((c) => c.action === 'remove' && c.groupGuid === g.groupGuid.toLowerCase()).map((c) => c.userGuid));
          for (const userGuid of removed) {
            expect(possible, `${userGuid} removed from ${g.name} although the holders are not fully known`).not.toBe(EVERYONE);
            expect((possible as Set<string>).has(userGuid), `${userGuid} removed from ${g.name} but may hold FullAccess`).toBe(false);
            expect(known.has(userGuid), `${userGuid} removed from ${g.name} but HelloID does not know it`).toBe(true);
          }
          if (possible === EVERYONE || g.members === null) continue;
          for (const m of new Set(g.members.map((x) => x.toLowerCase()))) {
            const user = t.helloid.users.find((u) => u.userGuid.toLowerCase() === m);
            if (!user || possible.has(m) || protectedNames.has(user.userName.toLowerCase())) continue;
            expect(removed.has(m), `${user.userName} is safe to remove from ${g.name} but was not`).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
