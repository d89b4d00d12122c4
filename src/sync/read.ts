/**
 * The read path of `plan`: Exchange and HelloID side by side, then core.
 *
 *   Exchange: mailboxes ─┬─ permissions ── group trustees (expanded)
 *   HelloID:  users, groups ─┴─ members of the owner groups only
 *
 * HelloID is the long pole at scale (one member read per owner group, nothing to
 * batch), so its member reads start as early as possible: each page of the group
 * listing is searched, as it arrives, for groups that could be an in-scope mailbox's
 * owner group, and their reads are queued while later pages are still coming (before
 * the mailbox list is known, a bounded number on a guess from the name pattern). The
 * complete group list then decides which groups count (a name that turns out
 * ambiguous is not a match); results for any others are dropped. Zero in-scope
 * mailboxes is an error: a broken filter must never turn into "remove every owner".
 */
import {
  buildOwnerGroupIndex,
  computeDesiredState,
  computeDiff,
  exactNameKey,
  fitsOwnerGroupPattern,
  foldedNameKey,
  isEffectiveFullAccess,
  isSystemTrustee,
  normaliseSource,
  ownerGroupName,
} from '../core/index.js';
import type {
  DesiredState,
  DiffResult,
  ExchangeSnapshot,
  FailedUserLookup,
  HelloIdGroup,
  HelloIdSnapshot,
  HelloIdUser,
  Mailbox,
  OutsideMailbox,
  SyncOptions,
} from '../core/types.js';
import { OwnersyncError } from '../errors.js';
import { plural } from '../plural.js';
import type { ExchangeSource, HelloIdSource } from './sources.js';

export interface ReadProgress {
  (phase: string, detail?: string): void;
}

export interface ReadCounts {
  mailboxes: number;
  exchangeUsers: number;
  groupsExpanded: number;
  helloidUsers: number;
  helloidGroups: number;
  ownerGroupsRead: number;
}

/** What was read: everything core needs, and the counts `plan` reports. */
export interface Snapshots {
  exchange: ExchangeSnapshot;
  helloid: HelloIdSnapshot;
  counts: ReadCounts;
}

export interface ReadResult {
  desired: DesiredState;
  diff: DiffResult;
  counts: ReadCounts;
}

type MemberReads = Map<string, string[] | Error>;

/** Owner-group member reads started on a guess before the mailbox list is known (see readAndDiff). */
const SPECULATIVE_READS = 200;

/** A HelloID source whose listGroups can report pages as they arrive (HelloIdClient can). */
type PagedGroupSource = { listGroups(onPage?: (groups: HelloIdGroup[]) => void): Promise<HelloIdGroup[]> };

/**
 * Read both sides, then derive the desired state and the diff. Each snapshot is let go
 * as soon as core has used it: the Exchange one (every user and permission row) is
 * garbage before the diff is computed, which lowers `plan`'s memory peak.
 */
export async function readAndDiff(
  exchange: ExchangeSource,
  helloid: HelloIdSource,
  opts: SyncOptions & { mailboxFilter?: string },
  progress: ReadProgress = () => {},
): Promise<ReadResult> {
  let read: Snapshots | undefined = await readSnapshots(exchange, helloid, opts, progress);
  const { helloid: helloidSnapshot, counts } = read;
  progress('Computing', 'desired state and diff');
  const desired = computeDesiredState(read.exchange, opts);
  read = undefined;
  const diff = computeDiff(desired, helloidSnapshot, opts);
  return { desired, diff, counts };
}

/** Exchange and HelloID side by side (see the header comment). */
export async function readSnapshots(
  exchange: ExchangeSource,
  helloid: HelloIdSource,
  opts: SyncOptions & { mailboxFilter?: string },
  progress: ReadProgress = () => {},
): Promise<Snapshots> {
  progress('Reading', 'shared mailboxes, Exchange users, HelloID users and groups');
  const mailboxesP = exchange.listMailboxes();
  const exUsersP = exchange.listUsers();
  const hUsersP = helloid.listUsers();

  // Member reads started early, per group page (see the header comment).
  const source = normaliseSource(opts.groupSource);
  const reads: Array<Promise<MemberReads>> = [];
  const requested = new Set<string>();
  const read = (groups: HelloIdGroup[], isCandidate: (g: HelloIdGroup) => boolean, max = Number.POSITIVE_INFINITY): void => {
    const guids: string[] = [];
    for (const g of groups) {
      if (guids.length >= max) break;
      const key = g.groupGuid.toLowerCase();
      if (requested.has(key) || !isCandidate(g)) continue;
      requested.add(key);
      guids.push(g.groupGuid);
    }
    if (guids.length === 0) return;
    const p = helloid.readMembers(guids);
    p.catch(() => {});
    reads.push(p);
  };
  // Until the mailbox list is in, a group named like an owner group (prefix … suffix) is
  // read on a guess, when every shared mailbox is in scope (no mailboxFilter) so such a
  // group almost surely belongs to one; at most SPECULATIVE_READS, so a wrong guess costs
  // little. Without the guess HelloID would idle while Exchange lists the mailboxes.
  const guess = !opts.mailboxFilter && opts.groupPrefix.length + opts.groupSuffix.length > 0;
  let guessed = 0;
  const looksLikeOwnerGroup = (g: HelloIdGroup): boolean => fitsOwnerGroupPattern(g.name, g.source, opts);
  const scope: { isCandidate?: (g: HelloIdGroup) => boolean } = {};
  const earlyPages: HelloIdGroup[][] = [];
  const readCandidates = (groups: HelloIdGroup[]): void => {
    if (scope.isCandidate) {
      read(groups, scope.isCandidate);
      return;
    }
    earlyPages.push(groups);
    if (guess && guessed < SPECULATIVE_READS) {
      const before = requested.size;
      read(groups, looksLikeOwnerGroup, SPECULATIVE_READS - guessed);
      guessed += requested.size - before;
    }
  };
  const hGroupsP = (helloid as HelloIdSource & PagedGroupSource).listGroups((page) => {
    try {
      readCandidates(page);
    } catch {
      // Only an optimisation: whatever was not started here is read once the list is complete.
    }
  });
  // Avoid unhandled rejections while we await them in sequence.
  for (const p of [mailboxesP, exUsersP, hUsersP, hGroupsP]) p.catch(() => {});

  // With a filter, every shared mailbox's name too: an owner group may also belong to
  // a mailbox the filter leaves out (issue 17 story 2; core holds its removals).
  const everyMailboxP = opts.mailboxFilter ? exchange.listMailboxes('') : Promise.resolve(undefined);
  everyMailboxP.catch(() => {});

  const mailboxes = await mailboxesP;
  if (mailboxes.length === 0) {
    throw new OwnersyncError(
      `Exchange returned zero shared mailboxes${opts.mailboxFilter ? ` for exchange.mailboxFilter "${opts.mailboxFilter}"` : ''}. ` +
        'Refusing to plan: an empty scope would look like "every owner left". Check the filter and the app\'s Exchange role.',
    );
  }
  progress('Reading', plural(mailboxes.length, 'shared mailbox', 'shared mailboxes') + ' found');

  // A group can only be matched by its exact or its diacritics-folded name (core/naming).
  const exact = new Set<string>();
  const folded = new Set<string>();
  for (const m of mailboxes) {
    const name = ownerGroupName(m.displayName, opts);
    exact.add(exactNameKey(name));
    folded.add(foldedNameKey(name));
  }
  scope.isCandidate = (g) => normaliseSource(g.source) === source && (exact.has(exactNameKey(g.name)) || folded.has(foldedNameKey(g.name)));
  for (const page of earlyPages.splice(0)) read(page, scope.isCandidate);

  // Owner-group member reads: only the groups that belong to in-scope mailboxes.
  const membersP = hGroupsP.then(async (groups): Promise<MemberReads> => {
    const index = buildOwnerGroupIndex(groups, { groupSource: opts.groupSource });
    const wanted = new Map<string, string>();
    for (const m of mailboxes) {
      const match = index.match(ownerGroupName(m.displayName, opts));
      if (match.kind === 'match') wanted.set(match.group.groupGuid.toLowerCase(), match.group.groupGuid);
    }
    progress('Reading', `members of ${plural(wanted.size, 'HelloID owner group')}`);
    const missing = [...wanted].filter(([key]) => !requested.has(key)).map(([, guid]) => guid);
    if (missing.length > 0) reads.push(helloid.readMembers(missing.sort()));
    const out: MemberReads = new Map();
    for (const result of await Promise.all(reads)) {
      for (const [guid, members] of result) {
        const keep = wanted.get(guid.toLowerCase());
        if (keep !== undefined) out.set(keep, members);
      }
    }
    return out;
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
  let failedLookups: ExchangeSnapshot['failedLookups'] = [];
  if (trustees.size > 0 && opts.expandGroups) {
    progress('Resolving group trustees', plural(trustees.size, 'trustee'));
    ({ groups, failedLookups } = await exchange.resolveGroups([...trustees].sort()));
  }
  const snapshot: ExchangeSnapshot = { mailboxes: withPerms, users: exUsers, groups, failedLookups, serviceWarnings: [...(exchange.serviceWarnings ?? [])] };
  const everyMailbox = await everyMailboxP;
  if (everyMailbox) snapshot.outsideFilter = outsideFilter(everyMailbox, mailboxes);

  const [hUsers, hGroups, members] = await Promise.all([hUsersP, hGroupsP, membersP]);
  const groupsWithMembers: HelloIdGroup[] = hGroups.map((g) => {
    const m = members.get(g.groupGuid);
    if (m === undefined) return { ...g, members: null };
    if (m instanceof Error) return { ...g, members: null, memberError: m.message };
    return { ...g, members: m };
  });
  const looked = await lookUpMissingMembers(helloid, hUsers, members);
  const hSnapshot: HelloIdSnapshot = { users: [...hUsers, ...looked.found], groups: groupsWithMembers };
  if (looked.failed.length > 0) hSnapshot.failedUserLookups = looked.failed;

  return {
    exchange: snapshot,
    helloid: hSnapshot,
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

/** The shared mailboxes of `every` that are not in scope, by name (core needs no more). */
function outsideFilter(every: readonly Mailbox[], inScope: readonly Mailbox[]): OutsideMailbox[] {
  const scoped = new Set(inScope.map((m) => m.guid.toLowerCase()));
  return every.filter((m) => !scoped.has(m.guid.toLowerCase())).map((m) => ({ displayName: m.displayName, primarySmtpAddress: m.primarySmtpAddress }));
}

/**
 * Offset paging is no snapshot (wire-formats.md): a user deleted while the list was read
 * shifts later pages and hides another user. So every member GUID the list lacks is
 * looked up on its own (spec §3 rule 6): found → a user like any other; 404 → a deleted
 * user, which core keeps; any other failure → recorded, and core keeps that member too.
 */
async function lookUpMissingMembers(helloid: HelloIdSource, users: readonly HelloIdUser[], members: MemberReads): Promise<{ found: HelloIdUser[]; failed: FailedUserLookup[] }> {
  const known = new Set(users.map((u) => u.userGuid.toLowerCase()));
  const missing = new Set<string>();
  for (const m of members.values()) {
    if (m instanceof Error) continue;
    for (const guid of m) if (!known.has(guid.toLowerCase())) missing.add(guid.toLowerCase());
  }
  const found: HelloIdUser[] = [];
  const failed: FailedUserLookup[] = [];
  if (missing.size === 0) return { found, failed };
  for (const [userGuid, result] of await helloid.lookupUsers([...missing].sort())) {
    if (result instanceof Error) failed.push({ userGuid, error: result.message });
    else if (result !== null) found.push(result);
  }
  return { found, failed };
}

export function syncOptionsFrom(cfg: { exchange: { expandGroups: boolean; mailboxFilter?: string }; sync: Omit<SyncOptions, 'expandGroups'> }): SyncOptions & { mailboxFilter?: string } {
  return { ...cfg.sync, expandGroups: cfg.exchange.expandGroups, mailboxFilter: cfg.exchange.mailboxFilter };
}

export type { Mailbox };
