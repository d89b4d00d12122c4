/**
 * fast-check generators of small, messy tenants: colliding and accented mailbox names,
 * UPNs in random case, nested and cyclic groups, failed reads, string booleans, system
 * trustees, HelloID groups of several sources, members unknown to HelloID. Small pools
 * on purpose, so that collisions (the interesting cases) are frequent.
 */
import fc from 'fast-check';
import type {
  ExchangeGroup,
  ExchangeSnapshot,
  ExchangeUser,
  GroupMember,
  HelloIdGroup,
  HelloIdSnapshot,
  HelloIdUser,
  LooseBool,
  Mailbox,
  PermissionEntry,
  SyncOptions,
} from '../../src/core/index.js';

export interface Tenant {
  exchange: ExchangeSnapshot;
  helloid: HelloIdSnapshot;
  opts: SyncOptions;
}

const NAMES = ['Sales', 'sales', 'Café Team', 'Cafe Team', 'Support'];
const USER_COUNT = 8;
const upn = (i: number): string => `user${i}@contoso.com`;
const guidOf = (kind: string, i: number): string => `${kind}0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

function randomCase(s: string, mask: number): string {
  return [...s].map((c, i) => ((mask >> i % 16) & 1 ? c.toUpperCase() : c)).join('');
}

const looseBool = (pTrue: number): fc.Arbitrary<LooseBool> =>
  fc.oneof(
    { weight: 100 - pTrue, arbitrary: fc.constantFrom<LooseBool>(false, 'False', 'false', null) },
    { weight: pTrue, arbitrary: fc.constantFrom<LooseBool>(true, 'True', 'true') },
  );

export const tenantArb: fc.Arbitrary<Tenant> = fc
  .record({
    // Which users exist in Exchange / HelloID.
    exUsers: fc.uniqueArray(fc.integer({ min: 0, max: USER_COUNT - 1 }), { minLength: 3, maxLength: USER_COUNT }),
    hidUsers: fc.uniqueArray(fc.integer({ min: 0, max: USER_COUNT - 1 }), { minLength: 3, maxLength: USER_COUNT }),
    upnCase: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: USER_COUNT, maxLength: USER_COUNT }),
    groups: fc.array(
      fc.record({
        users: fc.uniqueArray(fc.integer({ min: 0, max: USER_COUNT - 1 }), { maxLength: 4 }),
        nested: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
        failed: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
        contact: fc.boolean(),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    mailboxes: fc.array(
      fc.record({
        name: fc.constantFrom(...NAMES),
        failed: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        rows: fc.array(
          fc.record({
            trustee: fc.oneof(
              { weight: 6, arbitrary: fc.record({ user: fc.integer({ min: 0, max: USER_COUNT - 1 }), mask: fc.integer({ min: 0, max: 0xffff }) }).map(({ user, mask }) => randomCase(upn(user), mask)) },
              { weight: 4, arbitrary: fc.integer({ min: 0, max: 3 }).map((i) => `Group-${i}`) },
              { weight: 1, arbitrary: fc.constantFrom('NT AUTHORITY\\SELF', 'S-1-5-21-1-2-3-500', 'CONTOSO\\Domain Admins', 'ghost@contoso.com') },
            ),
            rights: fc.constantFrom<string[] | string>(['FullAccess'], ['fullaccess', 'ReadPermission'], 'FullAccess, ReadPermission', ['ReadPermission'], ['ChangeOwner']),
            inherited: looseBool(15),
            deny: looseBool(10),
          }),
          { maxLength: 8 },
        ),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    hidGroups: fc.array(
      fc.record({
        name: fc.constantFrom(...NAMES),
        source: fc.constantFrom<string | null>(null, '', 'Local', 'LOCAL', 'AzureAD'),
        members: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: USER_COUNT + 1 }), { maxLength: 6 }), { freq: 8 }),
        upper: fc.boolean(),
      }),
      { maxLength: 8 },
    ),
    removeMembers: fc.boolean(),
    protectedUsers: fc.uniqueArray(fc.integer({ min: 0, max: USER_COUNT - 1 }), { maxLength: 2 }),
    expandGroups: fc.integer({ min: 0, max: 4 }).map((n) => n !== 0),
    limits: fc.record({ maxRemovals: fc.integer({ min: 0, max: 10 }), maxRemovalPercent: fc.integer({ min: 0, max: 100 }), allowEmptyingGroups: fc.boolean() }),
  })
  .map((r): Tenant => {
    const users: ExchangeUser[] = r.exUsers.map((i) => ({
      userPrincipalName: randomCase(upn(i), r.upnCase[i] ?? 0),
      displayName: `User ${i}`,
      externalDirectoryObjectId: guidOf('e', i),
      guid: guidOf('x', i),
    }));
    const groups: ExchangeGroup[] = r.groups.map((grp, gi) => {
      const members: GroupMember[] = grp.users.map((i) => ({ name: `user${i}`, externalDirectoryObjectId: guidOf('e', i), recipientTypeDetails: 'UserMailbox' }));
      for (const n of grp.nested) members.push({ name: `Group-${n}`, guid: guidOf('g', n), recipientTypeDetails: 'MailUniversalSecurityGroup' });
      if (grp.contact) members.push({ name: `contact-${gi}`, primarySmtpAddress: `c${gi}@fabrikam.com`, recipientTypeDetails: 'MailContact' });
      return { name: `Group-${gi}`, guid: guidOf('g', gi), recipientTypeDetails: 'MailUniversalSecurityGroup', members: grp.failed ? null : members };
    });
    const mailboxes: Mailbox[] = r.mailboxes.map((m, mi) => ({
      guid: guidOf('m', mi),
      displayName: m.name,
      primarySmtpAddress: `mbx${mi}@contoso.com`,
      permissions: m.failed
        ? null
        : m.rows.map((row): PermissionEntry => ({ trustee: row.trustee, accessRights: row.rights as string[], isInherited: row.inherited, deny: row.deny })),
    }));
    const hidUsers: HelloIdUser[] = r.hidUsers.map((i) => ({ userGuid: guidOf('h', i), userName: i % 3 === 0 ? upn(i).toUpperCase() : upn(i) }));
    const hidGroups: HelloIdGroup[] = r.hidGroups.map((grp, gi) => ({
      groupGuid: grp.upper ? guidOf('a', gi).toUpperCase() : guidOf('a', gi),
      name: `${grp.name} Resource Owners`,
      source: grp.source,
      // Indexes beyond the user pool are guids HelloID does not list as users.
      members: grp.members === null ? null : grp.members.map((i) => (grp.upper ? guidOf('h', i).toUpperCase() : guidOf('h', i))),
    }));
    return {
      exchange: { mailboxes, users, groups },
      helloid: { users: hidUsers, groups: hidGroups },
      opts: {
        groupSource: 'Local',
        groupPrefix: '',
        groupSuffix: ' Resource Owners',
        removeMembers: r.removeMembers,
        protectedUsers: r.protectedUsers.map(upn),
        expandGroups: r.expandGroups,
        limits: r.limits,
      },
    };
  });

/** A deterministic permutation driven by `seed` (xorshift), applied to every list in the tenant. */
export function shuffleTenant(t: Tenant, seed: number): Tenant {
  let s = seed | 1;
  const rnd = (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const shuffle = <T>(xs: readonly T[]): T[] => {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = rnd(i + 1);
      [a[i], a[j]] = [a[j] as T, a[i] as T];
    }
    return a;
  };
  return {
    opts: { ...t.opts, protectedUsers: shuffle(t.opts.protectedUsers) },
    exchange: {
      mailboxes: shuffle(t.exchange.mailboxes).map((m) => ({ ...m, permissions: m.permissions && shuffle(m.permissions) })),
      users: shuffle(t.exchange.users),
      groups: shuffle(t.exchange.groups).map((grp) => ({ ...grp, members: grp.members && shuffle(grp.members) })),
    },
    helloid: {
      users: shuffle(t.helloid.users),
      groups: shuffle(t.helloid.groups).map((grp) => ({ ...grp, members: grp.members && shuffle(grp.members) })),
    },
  };
}
