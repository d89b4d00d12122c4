/**
 * The read path of `plan`: Exchange and HelloID side by side, then core.
 *
 *   Exchange: mailboxes ─┬─ permissions ── group trustees (expanded)
 *   HelloID:  users, groups ─┴─ members of the owner groups only
 *
 * Member reads start as soon as the mailbox list and the group list are known, so
 * they overlap the permission reads, which dominate. Zero in-scope mailboxes is an
 * error: a broken filter must never turn into "remove every owner".
 */
import { buildOwnerGroupIndex, computeDesiredState, computeDiff, isEffectiveFullAccess, isSystemTrustee, ownerGroupName } from '../core/index.js';
import type { DesiredState, DiffResult, ExchangeSnapshot, HelloIdGroup, HelloIdSnapshot, Mailbox, SyncOptions } from '../core/types.js';
import { OwnersyncError } from '../errors.js';
import type { ExchangeSource, HelloIdSource } from './sources.js';

export interface ReadProgress {
  (phase: string, detail?: string): void;
}

export interface ReadResult {
  exchange: ExchangeSnapshot;
  helloid: HelloIdSnapshot;
  desired: DesiredState;
  diff: DiffResult;
  counts: { mailboxes: number; exchangeUsers: number; groupsExpanded: number; helloidUsers: number; helloidGroups: number; ownerGroupsRead: number };
}

export async function readAndDiff(
  exchange: ExchangeSource,
  helloid: HelloIdSource,
  opts: SyncOptions & { mailboxFilter?: string },
  progress: ReadProgress = () => {},
): Promise<ReadResult> {
  progress('Reading', 'shared mailboxes, Exchange users, HelloID users and groups');
  const mailboxesP = exchange.listMailboxes();
  const exUsersP = exchange.listUsers();
  const hUsersP = helloid.listUsers();
  const hGroupsP = helloid.listGroups();
  // Avoid unhandled rejections while we await them in sequence.
  for (const p of [mailboxesP, exUsersP, hUsersP, hGroupsP]) p.catch(() => {});

  const mailboxes = await mailboxesP;
  if (mailboxes.length === 0) {
    throw new OwnersyncError(
      `Exchange returned zero shared mailboxes${opts.mailboxFilter ? ` for exchange.mailboxFilter "${opts.mailboxFilter}"` : ''}. ` +
        'Refusing to plan: an empty scope would look like "every owner left". Check the filter and the app\'s Exchange role.',
    );
  }
  progress('Reading', `${mailboxes.length} shared mailboxes found`);

  // Owner-group member reads: only the groups that belong to in-scope mailboxes.
  const membersP = hGroupsP.then((groups) => {
    const index = buildOwnerGroupIndex(groups, { groupSource: opts.groupSource });
    const guids = new Set<string>();
    for (const m of mailboxes) {
      const match = index.match(ownerGroupName(m.displayName, opts));
      if (match.kind === 'match') guids.add(match.group.groupGuid);
    }
    progress('Reading', `members of ${guids.size} HelloID owner groups`);
    return helloid.readMembers([...guids].sort());
  });
  membersP.catch(() => {});

  const withPerms = await exchange.readPermissions(mailboxes, (done, total) => progress('Reading FullAccess permissions', `${done}/${total} mailboxes`));
  const exUsers = await exUsersP;
  const upns = new Set(exUsers.map((u) => u.userPrincipalName.toLowerCase()));
  const trustees = new Set<string>();
  for (const m of withPerms) {
    for (const row of m.permissions ?? []) {
      if (!isEffectiveFullAccess(row) || isSystemTrustee(row.trustee)) continue;
      if (!upns.has(row.trustee.toLowerCase())) trustees.add(row.trustee);
    }
  }
  let groups: ExchangeSnapshot['groups'] = [];
  if (trustees.size > 0 && opts.expandGroups) {
    progress('Resolving group trustees', `${trustees.size} trustees`);
    groups = await exchange.resolveGroups([...trustees].sort());
  }
  const snapshot: ExchangeSnapshot = { mailboxes: withPerms, users: exUsers, groups };

  const [hUsers, hGroups, members] = await Promise.all([hUsersP, hGroupsP, membersP]);
  const groupsWithMembers: HelloIdGroup[] = hGroups.map((g) => {
    const m = members.get(g.groupGuid);
    if (m === undefined) return { ...g, members: null };
    if (m instanceof Error) return { ...g, members: null, memberError: m.message };
    return { ...g, members: m };
  });
  const hSnapshot: HelloIdSnapshot = { users: hUsers, groups: groupsWithMembers };

  progress('Computing', 'desired state and diff');
  const desired = computeDesiredState(snapshot, opts);
  const diff = computeDiff(desired, hSnapshot, opts);
  return {
    exchange: snapshot,
    helloid: hSnapshot,
    desired,
    diff,
    counts: {
      mailboxes: mailboxes.length,
      exchangeUsers: exUsers.length,
      groupsExpanded: groups.length,
      helloidUsers: hUsers.length,
      helloidGroups: hGroups.length,
      ownerGroupsRead: members.size,
    },
  };
}

export function syncOptionsFrom(cfg: { exchange: { expandGroups: boolean; mailboxFilter?: string }; sync: Omit<SyncOptions, 'expandGroups'> }): SyncOptions & { mailboxFilter?: string } {
  return { ...cfg.sync, expandGroups: cfg.exchange.expandGroups, mailboxFilter: cfg.exchange.mailboxFilter };
}

export type { Mailbox };
