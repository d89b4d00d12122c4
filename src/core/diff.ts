/**
 * The diff of the desired state against HelloID (spec §3.4–3.6): which users to add to
 * and remove from which resource-owner group.
 *
 * The diff is on (groupGuid, userGuid) pairs, never on the user alone — the original
 * task keyed on the user id and so never added a user who already owned mailbox A to
 * B's group, and never removed a user still owning B from A's group.
 *
 * Removals are the dangerous half, so they happen only when every gate is open:
 * `removeMembers` is on, both reads behind the group (the mailbox's permissions and
 * the group's HelloID members) are complete, and the user is not protected. Otherwise
 * the member is reported as "kept" with the reason, so a reviewer sees what was held
 * back. Reasons are display text only; apply works on the guids.
 *
 * Two mailboxes can map to the same HelloID group (equal display names, or names that
 * differ only in case or diacritics). The group's desired members are then the union of
 * both mailboxes' holders — removing a holder of either would be wrong — and an
 * 'ambiguous-owner-group' warning names the mailboxes so the admin can rename one.
 */
import { holderIdHints, type HolderIdHint } from './hints.js';
import { checkLimits } from './limits.js';
import { buildOwnerGroupIndex, normaliseSource } from './naming.js';
import { cmp, sortWarnings } from './order.js';
import type {
  Change,
  DesiredMailbox,
  DesiredState,
  DiffResult,
  HelloIdGroup,
  HelloIdSnapshot,
  Holder,
  KeptMember,
  ManagedGroup,
  SyncOptions,
  Warning,
} from './types.js';

/**
 * A distinct HelloID user. `id` is its rank in (lowercased userName, guid) order, and
 * `UserIndex.guidRank[id]` its rank in guid order, so the per-group sorts (changes by
 * user name, members by guid) are integer sorts, and per-group set operations are
 * typed-array stamps instead of string-keyed Sets (the diff touches every membership a
 * few times; at a million memberships each Map operation saved is ~0.1 s).
 */
interface UserRef {
  id: number;
  guid: string;
  userName: string;
  key: string;
}

interface UserIndex {
  entries: UserRef[];
  /** Guids in guid order: output arrays copy these pointers without touching a UserRef. */
  guidsByRank: string[];
  /** id → rank in guid order. */
  guidRank: Int32Array;
  /** rank in guid order → id. */
  idByGuidRank: Int32Array;
  /** Lowercased guid → id. Ids (small integers) as values spare a pointer chase per member. */
  idByGuid: Map<string, number>;
  /** userName (lowercased) → the user, or all of them when several share it (ambiguous). */
  byName: Map<string, UserRef | UserRef[]>;
}

function indexUsers(users: HelloIdSnapshot['users']): UserIndex {
  const byGuid = new Map<string, UserRef>();
  for (const u of users) {
    if (typeof u.userGuid !== 'string' || typeof u.userName !== 'string') continue;
    const guid = u.userGuid.toLowerCase();
    const ref: UserRef = { id: 0, guid, userName: u.userName, key: u.userName.toLowerCase() };
    const prev = byGuid.get(guid);
    // A user listed twice: keep one chosen by content, not by position.
    if (!prev || cmp(ref.key, prev.key) < 0 || (ref.key === prev.key && cmp(ref.userName, prev.userName) < 0)) byGuid.set(guid, ref);
  }
  const entries = [...byGuid.values()].sort((a, b) => cmp(a.key, b.key) || cmp(a.guid, b.guid));
  const byName = new Map<string, UserRef | UserRef[]>();
  for (let id = 0; id < entries.length; id++) {
    const ref = entries[id] as UserRef;
    ref.id = id;
    // Entries are in (key, guid) order, so an ambiguous list comes out sorted by guid.
    const prev = byName.get(ref.key);
    if (prev === undefined) byName.set(ref.key, ref);
    else if (Array.isArray(prev)) prev.push(ref);
    else byName.set(ref.key, [prev, ref]);
  }
  const byGuidRank = [...entries].sort((a, b) => cmp(a.guid, b.guid));
  const guidRank = new Int32Array(entries.length);
  const guidsByRank: string[] = new Array(entries.length);
  const idByGuidRank = new Int32Array(entries.length);
  for (let r = 0; r < byGuidRank.length; r++) {
    const ref = byGuidRank[r] as UserRef;
    guidRank[ref.id] = r;
    guidsByRank[r] = ref.guid;
    idByGuidRank[r] = ref.id;
  }
  const idByGuid = new Map<string, number>();
  for (const ref of entries) idByGuid.set(ref.guid, ref.id);
  return { entries, guidsByRank, guidRank, idByGuidRank, idByGuid, byName };
}

const NO_USER = -1;
const AMBIGUOUS_USER = -2;
/** Not translated yet (hints.ts). */
const UNSET = -3;

/** Guid → user id, without allocating a lowercased copy when the guid already is lowercase. */
function idByGuid(users: UserIndex, guid: string): number | undefined {
  return users.idByGuid.get(guid) ?? users.idByGuid.get(guid.toLowerCase());
}

interface GroupAcc {
  group: HelloIdGroup;
  guid: string;
  key: string;
  mailboxes: DesiredMailbox[];
}

function holderReason(h: Holder): string[] {
  const parts: string[] = [];
  if (h.direct) parts.push('FullAccess (direct)');
  for (const chain of h.via) parts.push(`FullAccess via group ${chain.join(' > ')}`);
  return parts;
}

function mailboxList(mbs: readonly DesiredMailbox[]): string {
  return mbs.map((m) => m.primarySmtpAddress).join(', ');
}

/** Guid ranks of `ids`, sorted: an integer sort instead of a string sort. */
function sortedRanks(ids: readonly number[], users: UserIndex): Int32Array {
  const ranks = new Int32Array(ids.length);
  const guidRank = users.guidRank;
  for (let i = 0; i < ids.length; i++) ranks[i] = guidRank[ids[i] as number] as number;
  return ranks.sort();
}

/** The guids of sorted `ranks`, with guids unknown to the user list merged in, sorted. */
function guidsOf(ranks: Int32Array, unknown: readonly string[], users: UserIndex): string[] {
  const out: string[] = new Array(ranks.length);
  const guids = users.guidsByRank;
  for (let i = 0; i < ranks.length; i++) out[i] = guids[ranks[i] as number] as string;
  if (unknown.length === 0) return out;
  return out.concat(unknown).sort();
}

/** Observed ranks without the removed users, merged with the added users' ranks. */
function plannedRanks(observed: Int32Array, removedCount: number, added: readonly number[], isRemoved: (id: number) => boolean, users: UserIndex): Int32Array {
  if (removedCount === 0 && added.length === 0) return observed;
  const adds = sortedRanks(added, users);
  const out = new Int32Array(observed.length - removedCount + adds.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < observed.length || j < adds.length) {
    const o = i < observed.length ? (observed[i] as number) : Infinity;
    const a = j < adds.length ? (adds[j] as number) : Infinity;
    if (a < o) {
      out[k++] = a;
      j++;
    } else {
      if (!isRemoved(users.idByGuidRank[o] as number)) out[k++] = o;
      i++;
    }
  }
  return out;
}

/** Stamp arrays over user ids, reused from group to group. */
class Marks {
  readonly desired: Int32Array;
  readonly current: Int32Array;
  readonly removed: Int32Array;
  /** Index of the user's entry in the current group's `wants`. */
  readonly slot: Int32Array;
  round = 0;
  constructor(n: number) {
    this.desired = new Int32Array(n);
    this.current = new Int32Array(n);
    this.removed = new Int32Array(n);
    this.slot = new Int32Array(n);
  }
}

/** How a user is desired in a group: the mailbox grant behind it. */
interface Grant {
  mailbox: DesiredMailbox;
  holder: Holder;
}

/**
 * The desired members of the group being diffed, as parallel arrays indexed by slot
 * (no object per membership: there are a million of them). Reused from group to group.
 */
class Wants {
  ids: number[] = [];
  holders: Holder[] = [];
  mailboxes: DesiredMailbox[] = [];
  /** Further grants by slot, only when several mailboxes share the group. */
  more = new Map<number, Grant[]>();

  reset(): void {
    this.ids.length = 0;
    this.holders.length = 0;
    this.mailboxes.length = 0;
    this.more.clear();
  }

  reason(slot: number, shared: boolean): string {
    const holder = this.holders[slot] as Holder;
    if (!shared) return holderReason(holder).join('; ');
    const grants: Grant[] = [{ mailbox: this.mailboxes[slot] as DesiredMailbox, holder }, ...(this.more.get(slot) ?? [])];
    const parts: string[] = [];
    for (const g of grants) for (const p of holderReason(g.holder)) parts.push(`${p} on ${g.mailbox.primarySmtpAddress}`);
    return parts.join('; ');
  }
}

/**
 * Diff `desired` against `helloid`. Every matched group appears in `groups` (changed or
 * not); `limitViolations` is filled by `checkLimits`. Pure and deterministic: the same
 * inputs in any order give a deep-equal result.
 */
export function computeDiff(desired: DesiredState, helloid: HelloIdSnapshot, opts: SyncOptions): DiffResult {
  const warnings: Warning[] = [...desired.warnings];
  const index = buildOwnerGroupIndex(helloid.groups, opts);
  const users = indexUsers(helloid.users);
  const protectedKeys = new Set(opts.protectedUsers.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''));
  const sourceLabel = normaliseSource(opts.groupSource) === 'local' ? 'Local' : opts.groupSource;

  // 1. Mailbox → owner group. Mailboxes sharing a group are gathered so each group is
  //    then processed in one go.
  const accs = new Map<string, GroupAcc>();
  for (const mb of desired.mailboxes) {
    const m = index.match(mb.ownerGroupName);
    if (m.kind === 'none') {
      warnings.push({
        code: 'no-owner-group',
        mailbox: mb.primarySmtpAddress,
        subject: mb.ownerGroupName,
        message: `no HelloID group named '${mb.ownerGroupName}' with source '${sourceLabel}' (also tried without diacritics); mailbox ${mb.primarySmtpAddress} skipped`,
      });
      continue;
    }
    if (m.kind === 'ambiguous') {
      warnings.push({
        code: 'ambiguous-owner-group',
        mailbox: mb.primarySmtpAddress,
        subject: mb.ownerGroupName,
        message: `several HelloID groups with source '${sourceLabel}' match '${mb.ownerGroupName}': ${m.candidates.map((g) => `'${g.name}' (${g.groupGuid.toLowerCase()})`).join(', ')}; mailbox ${mb.primarySmtpAddress} skipped`,
      });
      continue;
    }
    const guid = m.group.groupGuid.toLowerCase();
    const acc = accs.get(guid);
    if (acc) acc.mailboxes.push(mb);
    else accs.set(guid, { group: m.group, guid, key: m.group.name.toLowerCase(), mailboxes: [mb] });
  }

  // Holder UPNs are the same few string objects over and over (one per Exchange user), so
  // caching by the raw string turns lowercase-then-lookup into one lookup on a string
  // whose hash V8 has already cached; misses are cached too.
  // The cached value is the user id, or NO_USER / AMBIGUOUS_USER.
  const upnCache = new Map<string, number>();
  const lookupUpn = (upn: string): number => {
    let id = upnCache.get(upn);
    if (id === undefined) {
      const found = users.byName.get(upn.toLowerCase());
      id = found === undefined ? NO_USER : Array.isArray(found) ? AMBIGUOUS_USER : found.id;
      upnCache.set(upn, id);
    }
    return id;
  };

  // Exchange user index → HelloID id, per desired-state run (see hints.ts).
  const translations = new Map<readonly string[], Int32Array>();

  // 2. Per group, in name order, so that concatenating per-group output is globally sorted.
  const ordered = [...accs.values()].sort((x, y) => cmp(x.key, y.key) || cmp(x.guid, y.guid));
  const marks = new Marks(users.entries.length);
  const wants = new Wants();
  const groups: ManagedGroup[] = [];
  const changes: Change[] = [];
  const kept: KeptMember[] = [];

  for (const acc of ordered) {
    const { group, guid, mailboxes } = acc;
    const round = ++marks.round;
    const first = mailboxes[0] as DesiredMailbox;
    const shared = mailboxes.length > 1;
    const groupName = group.name;
    const mailbox = first.primarySmtpAddress;
    if (shared) {
      warnings.push({
        code: 'ambiguous-owner-group',
        mailbox,
        subject: groupName,
        message: `HelloID group '${groupName}' is the owner group of ${mailboxes.length} mailboxes (${mailboxList(mailboxes)}); its desired members are the union of their FullAccess holders`,
      });
    }

    // Desired members of this group.
    wants.reset();
    for (const mb of mailboxes) {
      const hint = holderIdHints.get(mb);
      let xlate: Int32Array | undefined;
      if (hint) {
        xlate = translations.get(hint.upns);
        if (!xlate) translations.set(hint.upns, (xlate = new Int32Array(hint.upns.length).fill(UNSET)));
      }
      const holders = mb.holders;
      for (let i = 0; i < holders.length; i++) {
        const h = holders[i] as Holder;
        const upn = h.userPrincipalName;
        let id: number;
        const exId = hint ? hint.ids[i] : undefined;
        if (exId !== undefined && (hint as HolderIdHint).upns[exId] === upn) {
          id = (xlate as Int32Array)[exId] as number;
          if (id === UNSET) (xlate as Int32Array)[exId] = id = lookupUpn(upn);
        } else {
          id = lookupUpn(upn);
        }
        if (id === NO_USER) {
          warnings.push({
            code: 'no-helloid-user',
            mailbox: mb.primarySmtpAddress,
            subject: h.userPrincipalName,
            message: `no HelloID user with userName '${h.userPrincipalName}' (FullAccess holder of ${mb.primarySmtpAddress}); not added`,
          });
          continue;
        }
        if (id === AMBIGUOUS_USER) {
          const found = users.byName.get(h.userPrincipalName.toLowerCase()) as UserRef[];
          warnings.push({
            code: 'no-helloid-user',
            mailbox: mb.primarySmtpAddress,
            subject: h.userPrincipalName,
            message: `userName '${h.userPrincipalName}' matches ${found.length} HelloID users (${found.map((u) => u.guid).join(', ')}); not added`,
          });
          continue;
        }
        if (marks.desired[id] === round) {
          const slot = marks.slot[id] as number;
          const more = wants.more.get(slot);
          if (more) more.push({ mailbox: mb, holder: h });
          else wants.more.set(slot, [{ mailbox: mb, holder: h }]);
        } else {
          marks.desired[id] = round;
          marks.slot[id] = wants.ids.length;
          wants.ids.push(id);
          wants.holders.push(h);
          wants.mailboxes.push(mb);
        }
      }
    }

    // Current members: known users by id, guids unknown to HelloID's user list by guid.
    const membersRead = Array.isArray(group.members);
    if (!membersRead) {
      warnings.push({
        code: 'incomplete-read',
        mailbox,
        subject: groupName,
        message: `members of HelloID group '${groupName}' could not be read${group.memberError ? ` (${group.memberError})` : ''}; no changes are planned for it (apply could not verify a group whose members are unknown); run plan again`,
      });
    }
    const currentIds: number[] = [];
    let unknown: string[] = [];
    if (membersRead) {
      for (const g of group.members as string[]) {
        if (typeof g !== 'string') continue;
        const id = idByGuid(users, g);
        if (id !== undefined) {
          if (marks.current[id] !== round) {
            marks.current[id] = round;
            currentIds.push(id);
          }
        } else {
          unknown.push(g.toLowerCase());
        }
      }
      if (unknown.length > 1) unknown = [...new Set(unknown)].sort();
    }

    const incompleteMailboxes = mailboxes.filter((m) => !m.complete);
    const complete = membersRead && incompleteMailboxes.length === 0;
    let keepReason: string | undefined;
    if (!opts.removeMembers) keepReason = 'removeMembers is false';
    else if (!membersRead) keepReason = 'incomplete read of the HelloID group members';
    else if (incompleteMailboxes.length > 0) keepReason = `incomplete read of mailbox ${mailboxList(incompleteMailboxes)}`;
    const removeReason = `no longer holds FullAccess on ${mailboxList(mailboxes)}`;

    // Changes and kept members, collected by user id (= user-name order).
    const addIds: number[] = [];
    // Unknown current members: no adds either. The plan records the observed set, and
    // apply's drift check compares against it; an empty "observed" for a group that has
    // members would only make apply refuse the whole plan.
    if (membersRead) for (const id of wants.ids) if (marks.current[id] !== round) addIds.push(id);
    const goneIds: number[] = [];
    for (const id of currentIds) if (marks.desired[id] !== round) goneIds.push(id);

    /** `id` is the user id, or -1 for a guid unknown to HelloID's user list. */
    type Row = { id: number; key: string; guid: string; action: Change['action']; userName: string };
    const rows: Row[] = [];
    const keptRows: Row[] = [];
    const isProtected = (key: string, g: string): boolean => protectedKeys.has(key) || protectedKeys.has(g);
    const gone = (id: number, key: string, g: string, userName: string): void => {
      if (keepReason === undefined && !isProtected(key, g)) rows.push({ id, key, guid: g, action: 'remove', userName });
      else keptRows.push({ id, key, guid: g, action: 'remove', userName });
    };
    for (const id of addIds) {
      const u = users.entries[id] as UserRef;
      rows.push({ id, key: u.key, guid: u.guid, action: 'add', userName: u.userName });
    }
    for (const id of goneIds) {
      const u = users.entries[id] as UserRef;
      gone(id, u.key, u.guid, u.userName);
    }
    // A member guid HelloID does not list as a user is still a member; it is shown by guid.
    for (const g of unknown) gone(-1, g, g, g);

    const byUser = (a: Row, b: Row): number => cmp(a.key, b.key) || cmp(a.guid, b.guid) || cmp(a.action, b.action);
    if (unknown.length === 0) {
      // All rows are known users: their ids already encode (key, guid) order.
      rows.sort((a, b) => a.id - b.id || cmp(a.action, b.action));
      keptRows.sort((a, b) => a.id - b.id);
    } else {
      rows.sort(byUser);
      keptRows.sort(byUser);
    }

    const plannedAdd: number[] = [];
    let removedKnown = 0;
    const removedUnknown = new Set<string>();
    for (const r of rows) {
      if (r.action === 'add') {
        const slot = marks.slot[r.id] as number;
        plannedAdd.push(r.id);
        changes.push({ action: 'add', groupGuid: guid, groupName, userGuid: r.guid, userName: r.userName, mailbox: (wants.mailboxes[slot] as DesiredMailbox).primarySmtpAddress, reason: wants.reason(slot, shared) });
      } else {
        if (r.id >= 0) {
          marks.removed[r.id] = round;
          removedKnown++;
        } else {
          removedUnknown.add(r.guid);
        }
        changes.push({ action: 'remove', groupGuid: guid, groupName, userGuid: r.guid, userName: r.userName, mailbox, reason: removeReason });
      }
    }
    for (const r of keptRows) {
      const reason = keepReason ?? 'protected user';
      kept.push({ groupGuid: guid, groupName, userGuid: r.guid, userName: r.userName, mailbox, reason });
    }

    const observedRanks = sortedRanks(currentIds, users);
    const planned = plannedRanks(observedRanks, removedKnown, plannedAdd, (id) => marks.removed[id] === round, users);
    const plannedUnknown = removedUnknown.size === 0 ? unknown : unknown.filter((g) => !removedUnknown.has(g));
    groups.push({
      groupGuid: guid,
      groupName,
      mailbox,
      mailboxDisplayName: first.displayName,
      observedMembers: guidsOf(observedRanks, unknown, users),
      plannedMembers: guidsOf(planned, plannedUnknown, users),
      complete,
    });
  }

  return {
    groups,
    changes,
    kept,
    warnings: sortWarnings(warnings),
    limitViolations: checkLimits(groups, changes, opts.limits),
  };
}
