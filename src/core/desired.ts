/**
 * Desired state (spec §3.2–3.3, §5): who should own which mailbox's resource-owner group,
 * derived from the Exchange snapshot and the config alone — never from HelloID.
 *
 * Per in-scope mailbox: keep the FullAccess rows that are neither Deny nor inherited,
 * skip system trustees, resolve each trustee to users (directly by UPN, or through a
 * mail-enabled group expanded recursively), and record how every holder holds access.
 * Nothing a reviewer should know about is dropped silently: every trustee or group
 * member that cannot be resolved becomes a warning, and every failed read marks the
 * mailbox incomplete so that the diff will not remove anyone from its group.
 *
 * Scale: a million FullAccess rows must go through in about a second, so every lookup
 * is one Map hit keyed by a (lowercased) string, per-mailbox bookkeeping uses typed
 * arrays indexed by a user id instead of per-mailbox Maps, and group expansions are
 * memoised per trustee group (a group's expansion does not depend on the mailbox).
 *
 * The result is to be treated as immutable: chains in `via`, and the empty `via` of
 * direct-only holders, are shared frozen arrays.
 */
import { parseBool } from './bool.js';
import { holderIdHints } from './hints.js';
import { ownerGroupName } from './naming.js';
import { cmp, sortWarnings } from './order.js';
import type {
  DesiredMailbox,
  DesiredState,
  ExchangeGroup,
  ExchangeSnapshot,
  ExchangeUser,
  GroupMember,
  Holder,
  PermissionEntry,
  SyncOptions,
  Warning,
  WarningCode,
} from './types.js';

/** The part of the sync options desired state depends on. */
export type DesiredStateOptions = Pick<SyncOptions, 'groupPrefix' | 'groupSuffix' | 'expandGroups'>;

const SID_PREFIX = /^s-1-5-/i;

/**
 * System trustees are ignored without a warning: `NT AUTHORITY\SELF` and friends, SIDs of
 * deleted principals (`S-1-5-…`), and `DOMAIN\name` admin groups. The last two rules
 * overlap the first: anything with a backslash is a down-level logon name, never a UPN.
 */
export function isSystemTrustee(trustee: string): boolean {
  const c = trustee.charCodeAt(0);
  return trustee.includes('\\') || ((c === 0x53 || c === 0x73) && SID_PREFIX.test(trustee));
}

/**
 * Whether a row's AccessRights grant FullAccess. The type says string[], but the wire
 * has been seen as one comma-separated string ("FullAccess, ReadPermission") and as an
 * array of such strings, so both are accepted.
 */
export function hasFullAccess(accessRights: unknown): boolean {
  if (typeof accessRights === 'string') return rightsStringHasFullAccess(accessRights);
  if (!Array.isArray(accessRights)) return false;
  for (const r of accessRights) {
    if (r === 'FullAccess') return true; // the overwhelmingly common case, no allocation
    if (typeof r === 'string' && rightsStringHasFullAccess(r)) return true;
  }
  return false;
}

const FULL_ACCESS_ITEM = /(?:^|,)\s*fullaccess\s*(?:,|$)/i;

function rightsStringHasFullAccess(s: string): boolean {
  return FULL_ACCESS_ITEM.test(s);
}

/** Keep a row iff it grants FullAccess and is neither Deny nor inherited (spec §3.2). */
export function isEffectiveFullAccess(row: PermissionEntry): boolean {
  return hasFullAccess(row.accessRights) && !parseBool(row.deny) && !parseBool(row.isInherited);
}

// ---------------------------------------------------------------------------------
// Indexes

function lc(s: string | undefined | null): string | undefined {
  if (s === undefined || s === null) return undefined;
  const t = s.trim();
  return t === '' ? undefined : t.toLowerCase();
}

function userOrderKey(u: ExchangeUser): string {
  return `${u.userPrincipalName.toLowerCase()}\u0000${(u.guid ?? '').toLowerCase()}\u0000${(u.externalDirectoryObjectId ?? '').toLowerCase()}\u0000${u.userPrincipalName}\u0000${u.displayName ?? ''}`;
}

/**
 * One distinct Exchange user. `id` is the user's rank in lowercased-UPN order, so sorting
 * a mailbox's holders is a sort of small integers, and per-mailbox bookkeeping can use
 * typed arrays indexed by id instead of string-keyed Maps (a Map operation costs a few
 * hundred nanoseconds at this size, mostly cache misses; there are millions of them).
 */
interface UserEntry {
  user: ExchangeUser;
  id: number;
  /** Copied from `user` so building a Holder touches one object, not two. */
  upn: string;
  displayName: string | undefined;
}

interface UserIndex {
  entries: UserEntry[];
  /**
   * UPN → user, keyed by the lowercased UPN and also by each spelling seen in Get-User
   * (every key k maps to the user of lowercase(k), so the two never disagree). Trustees
   * nearly always carry the Get-User spelling, so one lookup usually hits without
   * lowercasing the trustee (an allocation per row) first.
   */
  byUpn: Map<string, UserEntry>;
  byExtId: Map<string, UserEntry>;
  byGuid: Map<string, UserEntry>;
}

function indexUsers(users: readonly ExchangeUser[]): UserIndex {
  // Users sharing a UPN (case-insensitively) are one user; which record represents it is
  // decided by content, never by input position.
  const canonical = new Map<string, ExchangeUser>();
  const keyOf: (string | undefined)[] = new Array(users.length);
  for (let i = 0; i < users.length; i++) {
    const u = users[i] as ExchangeUser;
    const key = typeof u.userPrincipalName === 'string' ? lc(u.userPrincipalName) : undefined;
    keyOf[i] = key;
    if (key === undefined) continue;
    const prev = canonical.get(key);
    if (prev === undefined || (prev !== u && userOrderKey(u) < userOrderKey(prev))) canonical.set(key, u);
  }
  const keys = [...canonical.keys()].sort();
  const idx: UserIndex = { entries: new Array(keys.length), byUpn: new Map(), byExtId: new Map(), byGuid: new Map() };
  for (let id = 0; id < keys.length; id++) {
    const key = keys[id] as string;
    const user = canonical.get(key) as ExchangeUser;
    const entry: UserEntry = { user, id, upn: user.userPrincipalName, displayName: user.displayName };
    idx.entries[id] = entry;
    idx.byUpn.set(key, entry);
  }
  for (let i = 0; i < users.length; i++) {
    const key = keyOf[i];
    const raw = (users[i] as ExchangeUser).userPrincipalName;
    if (key !== undefined && raw !== key) idx.byUpn.set(raw, idx.byUpn.get(key) as UserEntry);
  }
  // Backwards over UPN order, so that on a shared id the first user in UPN order wins.
  for (let id = idx.entries.length - 1; id >= 0; id--) {
    const entry = idx.entries[id] as UserEntry;
    const ext = lc(entry.user.externalDirectoryObjectId);
    if (ext !== undefined) idx.byExtId.set(ext, entry);
    const guid = lc(entry.user.guid);
    if (guid !== undefined) idx.byGuid.set(guid, entry);
  }
  return idx;
}

type GroupAttr = 'name' | 'displayName' | 'primarySmtpAddress' | 'alias' | 'guid' | 'externalDirectoryObjectId';

/** Trustees show the group's Name, but accept any of its identities, in this order. */
const TRUSTEE_GROUP_ATTRS: readonly GroupAttr[] = ['name', 'displayName', 'primarySmtpAddress', 'alias', 'guid', 'externalDirectoryObjectId'];
/** Members carry ids; prefer them over names when finding the group a member is. */
const MEMBER_GROUP_ATTRS: readonly GroupAttr[] = ['guid', 'externalDirectoryObjectId', 'name', 'primarySmtpAddress', 'alias', 'displayName'];

type GroupIndex = Record<GroupAttr, Map<string, ExchangeGroup[]>>;

function groupOrderKey(g: ExchangeGroup): string {
  return `${g.name.toLowerCase()}\u0000${(g.guid ?? '').toLowerCase()}\u0000${g.name}`;
}

function indexGroups(groups: readonly ExchangeGroup[]): GroupIndex {
  const idx = {} as GroupIndex;
  for (const a of TRUSTEE_GROUP_ATTRS) idx[a] = new Map();
  for (const g of groups) {
    if (typeof g.name !== 'string') continue;
    for (const a of TRUSTEE_GROUP_ATTRS) {
      const key = lc(g[a]);
      if (key === undefined) continue;
      const list = idx[a].get(key);
      if (!list) idx[a].set(key, [g]);
      else if (!list.includes(g)) list.push(g);
    }
  }
  // Deterministic candidate order for ambiguity messages, whatever the input order.
  for (const a of TRUSTEE_GROUP_ATTRS) {
    for (const list of idx[a].values()) if (list.length > 1) list.sort((x, y) => cmp(groupOrderKey(x), groupOrderKey(y)));
  }
  return idx;
}

type GroupLookup = { kind: 'group'; group: ExchangeGroup } | { kind: 'ambiguous'; groups: ExchangeGroup[] } | { kind: 'none' };

function lookupGroup(idx: GroupIndex, attrs: readonly GroupAttr[], values: Partial<Record<GroupAttr, string | undefined>>): GroupLookup {
  for (const a of attrs) {
    const key = lc(values[a]);
    if (key === undefined) continue;
    const list = idx[a].get(key);
    if (!list) continue;
    if (list.length === 1) return { kind: 'group', group: list[0] as ExchangeGroup };
    return { kind: 'ambiguous', groups: list };
  }
  return { kind: 'none' };
}

// ---------------------------------------------------------------------------------
// Group expansion

interface Grant {
  entry: UserEntry;
  /** Group names from the trustee down to the group holding the user. Shared, frozen. */
  chain: readonly string[];
}

interface Issue {
  code: WarningCode;
  subject: string;
  message: string;
  /** The holders of the mailbox are not fully known: no removals for it. */
  incomplete: boolean;
}

interface Expansion {
  grants: Grant[];
  issues: Issue[];
}

function memberLabel(m: GroupMember): string {
  return m.name ?? m.displayName ?? m.primarySmtpAddress ?? m.userPrincipalName ?? m.guid ?? m.externalDirectoryObjectId ?? '(unnamed member)';
}

function chainText(chain: readonly string[]): string {
  return chain.join(' > ');
}

function isGroupType(rtd: string | undefined): boolean {
  return rtd !== undefined && rtd.toLowerCase().includes('group');
}

function memberToUser(m: GroupMember, users: UserIndex): UserEntry | undefined {
  let u: UserEntry | undefined;
  let k = lc(m.externalDirectoryObjectId);
  if (k !== undefined && (u = users.byExtId.get(k))) return u;
  k = lc(m.guid);
  if (k !== undefined && (u = users.byGuid.get(k))) return u;
  k = lc(m.userPrincipalName);
  if (k !== undefined && (u = users.byUpn.get(k))) return u;
  // Members come without a UPN; their SMTP address is the UPN in most tenants.
  k = lc(m.primarySmtpAddress);
  if (k !== undefined && (u = users.byUpn.get(k))) return u;
  return undefined;
}

/**
 * Bounds on one trustee group's expansion. Every simple path is enumerated (that is the
 * provenance), which pathological nesting (many diamonds) could blow up; past these
 * bounds the expansion stops and the mailbox is marked incomplete, which is safe.
 */
const MAX_GROUP_VISITS = 10_000;
const MAX_NESTING_DEPTH = 64;

/**
 * Expand a trustee group to its user members, recursively. Cycle protection is per path
 * (a group is not re-entered while it is its own ancestor), which enumerates every
 * simple chain independently of member order, so provenance is deterministic.
 */
function expandGroup(top: ExchangeGroup, users: UserIndex, groups: GroupIndex): Expansion {
  const grants: Grant[] = [];
  const issues: Issue[] = [];
  const onPath = new Set<ExchangeGroup>();
  const chain: string[] = [];
  let visits = 0;
  let truncation: Issue | undefined;

  const visit = (g: ExchangeGroup): void => {
    onPath.add(g);
    chain.push(g.name);
    const here = Object.freeze(chain.slice());
    const nested = here.length > 1 ? ` (nested: ${chainText(here)})` : '';
    if (g.members === null || g.members === undefined) {
      issues.push({
        code: 'group-read-failed',
        subject: g.name,
        message: `members of group '${g.name}'${nested} could not be read${g.memberError ? `: ${g.memberError}` : ''}; holders through it are unknown, so nobody is removed for this mailbox`,
        incomplete: true,
      });
    } else {
      for (const m of g.members) {
        const isGroup = isGroupType(m.recipientTypeDetails);
        const user = isGroup ? undefined : memberToUser(m, users);
        if (user) {
          grants.push({ entry: user, chain: here });
          continue;
        }
        // A group-typed member, or an untyped one that is no user, may be a nested group.
        if (isGroup || m.recipientTypeDetails === undefined) {
          const found = lookupGroup(groups, MEMBER_GROUP_ATTRS, m);
          if (found.kind === 'group') {
            // On the path already: a cycle, every user of it is reached anyway.
            if (onPath.has(found.group)) continue;
            if (++visits <= MAX_GROUP_VISITS && here.length < MAX_NESTING_DEPTH) {
              visit(found.group);
            } else {
              truncation ??= {
                code: 'group-read-failed',
                subject: top.name,
                message: `nesting under group '${top.name}' is too deep or too wide to expand (over ${MAX_NESTING_DEPTH} levels or ${MAX_GROUP_VISITS} group paths); holders through it are unknown, so nobody is removed for this mailbox`,
                incomplete: true,
              };
            }
            continue;
          }
          if (found.kind === 'ambiguous') {
            issues.push({
              code: 'unresolved-trustee',
              subject: memberLabel(m),
              message: `member '${memberLabel(m)}' of group '${g.name}'${nested} matches several groups (${found.groups.map((x) => x.name).join(', ')}); not expanded, so nobody is removed for this mailbox`,
              incomplete: true,
            });
            continue;
          }
          if (isGroup) {
            // Its members are unknown just as if the read had failed.
            issues.push({
              code: 'group-read-failed',
              subject: memberLabel(m),
              message: `nested group '${memberLabel(m)}' (member of '${g.name}'${nested}) was not read; holders through it are unknown, so nobody is removed for this mailbox`,
              incomplete: true,
            });
            continue;
          }
        }
        issues.push({
          code: 'unresolved-trustee',
          subject: memberLabel(m),
          message: `member '${memberLabel(m)}'${m.recipientTypeDetails ? ` (${m.recipientTypeDetails})` : ''} of group '${g.name}'${nested} is not a known Exchange user; ignored`,
          incomplete: false,
        });
      }
    }
    chain.pop();
    onPath.delete(g);
  };

  visit(top);
  // What was reached before the bound depends on member order; report none of it, so
  // the output stays independent of input order (the mailbox is incomplete anyway).
  if (truncation) return { grants: [], issues: [truncation] };
  return { grants, issues };
}

// ---------------------------------------------------------------------------------
// Per-mailbox holders

function sameChain(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function chainKey(chain: readonly string[]): string {
  return chain.join('\u0000');
}

function compareChains(a: readonly string[], b: readonly string[]): number {
  return cmp(chainKey(a).toLowerCase(), chainKey(b).toLowerCase()) || cmp(chainKey(a), chainKey(b));
}

/**
 * The `via` of a direct-only holder: one shared, frozen empty array instead of a million
 * fresh ones that would all survive into the old generation. Like the chains inside
 * `via` (shared per group path), it means DesiredState is to be treated as immutable.
 */
const NO_VIA = Object.freeze([]) as unknown as string[][];

/**
 * The holders of one mailbox while its rows are read. Reused across mailboxes: `stamp`
 * says whether a user id was seen in the current mailbox, `slot` where its Holder is.
 */
class HolderSet {
  private readonly stamp: Int32Array;
  private readonly slot: Int32Array;
  private round = 0;
  private holders: Holder[] = [];
  private ids: number[] = [];

  constructor(userCount: number) {
    this.stamp = new Int32Array(userCount);
    this.slot = new Int32Array(userCount);
  }

  begin(): void {
    this.round++;
    this.holders = [];
    this.ids = [];
  }

  private get(entry: UserEntry): Holder {
    const id = entry.id;
    if (this.stamp[id] === this.round) return this.holders[this.slot[id] as number] as Holder;
    this.stamp[id] = this.round;
    this.slot[id] = this.holders.length;
    // Fixed key order (displayName only when known) for byte-identical JSON.
    const h: Holder =
      entry.displayName !== undefined
        ? { userPrincipalName: entry.upn, displayName: entry.displayName, direct: false, via: NO_VIA }
        : { userPrincipalName: entry.upn, direct: false, via: NO_VIA };
    this.holders.push(h);
    this.ids.push(id);
    return h;
  }

  addDirect(entry: UserEntry): void {
    this.get(entry).direct = true;
  }

  addVia(entry: UserEntry, chain: readonly string[]): void {
    const h = this.get(entry);
    if (h.via === NO_VIA) {
      h.via = [chain as string[]];
      return;
    }
    for (const c of h.via) if (sameChain(c, chain)) return;
    h.via.push(chain as string[]);
  }

  /** The holders sorted by UPN (= id order), each with its chains sorted, and their ids. */
  finish(): { holders: Holder[]; ids: Int32Array } {
    const ids = Int32Array.from(this.ids).sort();
    const out: Holder[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const h = this.holders[this.slot[ids[i] as number] as number] as Holder;
      if (h.via.length > 1) h.via.sort(compareChains);
      out[i] = h;
    }
    return { holders: out, ids };
  }
}

/**
 * Derive the desired state. Pure: the same snapshot and options (in any input order)
 * give a deep-equal result.
 */
export function computeDesiredState(snapshot: ExchangeSnapshot, opts: DesiredStateOptions): DesiredState {
  const users = indexUsers(snapshot.users);
  const groups = indexGroups(snapshot.groups);
  const expansions = new Map<ExchangeGroup, Expansion>();
  const warnings: Warning[] = [];
  const result: { m: DesiredMailbox; k1: string; k2: string }[] = [];
  const holders = new HolderSet(users.entries.length);
  const upns = users.entries.map((e) => e.upn);

  for (const mb of snapshot.mailboxes) {
    const mailbox = mb.primarySmtpAddress;
    const groupName = ownerGroupName(mb.displayName, opts);
    const warn = (code: WarningCode, subject: string | undefined, message: string): void => {
      warnings.push(subject === undefined ? { code, mailbox, message } : { code, mailbox, subject, message });
    };
    let complete = true;
    holders.begin();

    if (mb.permissions === null || mb.permissions === undefined) {
      complete = false;
      warn(
        'incomplete-read',
        mailbox,
        `FullAccess permissions of mailbox ${mailbox} could not be read${mb.permissionError ? ` (${mb.permissionError})` : ''}; its holders are unknown, so nobody is removed from its owner group`,
      );
    } else {
      for (const row of mb.permissions) {
        if (!isEffectiveFullAccess(row)) continue;
        const trustee = typeof row.trustee === 'string' ? row.trustee.trim() : '';
        if (trustee === '') {
          warn('unresolved-trustee', undefined, `a FullAccess entry on ${mailbox} has an empty trustee; ignored`);
          continue;
        }
        if (isSystemTrustee(trustee)) continue;
        const user = users.byUpn.get(trustee) ?? users.byUpn.get(trustee.toLowerCase());
        if (user) {
          holders.addDirect(user);
          continue;
        }
        const found = lookupGroup(groups, TRUSTEE_GROUP_ATTRS, {
          name: trustee, displayName: trustee, primarySmtpAddress: trustee, alias: trustee, guid: trustee, externalDirectoryObjectId: trustee,
        });
        if (found.kind === 'none') {
          // With expansion off, callers need not read groups at all, so "unknown" may well be a group.
          warn(
            'unresolved-trustee',
            trustee,
            opts.expandGroups
              ? `FullAccess trustee '${trustee}' on ${mailbox} is neither a known user (UPN) nor a known mail-enabled group; ignored`
              : `FullAccess trustee '${trustee}' on ${mailbox} is not a known user (UPN); if it is a group, group expansion is off (exchange.expandGroups: false), so its members are not holders`,
          );
          continue;
        }
        if (found.kind === 'ambiguous') {
          warn('unresolved-trustee', trustee, `FullAccess trustee '${trustee}' on ${mailbox} matches several groups (${found.groups.map((g) => g.name).join(', ')}); ignored`);
          continue;
        }
        const group = found.group;
        if (!opts.expandGroups) {
          warn('unresolved-trustee', trustee, `FullAccess on ${mailbox} is granted to group '${group.name}', but group expansion is off (exchange.expandGroups: false); its members are not holders`);
          continue;
        }
        let exp = expansions.get(group);
        if (!exp) {
          exp = expandGroup(group, users, groups);
          expansions.set(group, exp);
        }
        for (const g of exp.grants) holders.addVia(g.entry, g.chain);
        for (const issue of exp.issues) {
          warn(issue.code, issue.subject, issue.message);
          if (issue.incomplete) complete = false;
        }
      }
    }

    const guid = mb.guid.toLowerCase();
    const finished = holders.finish();
    const m: DesiredMailbox = {
      guid,
      displayName: mb.displayName,
      primarySmtpAddress: mailbox,
      ownerGroupName: groupName,
      complete,
      holders: finished.holders,
    };
    holderIdHints.set(m, { ids: finished.ids, upns });
    result.push({ m, k1: groupName.toLowerCase(), k2: guid });
  }

  result.sort((a, b) => cmp(a.k1, b.k1) || cmp(a.k2, b.k2) || cmp(a.m.ownerGroupName, b.m.ownerGroupName) || cmp(a.m.primarySmtpAddress, b.m.primarySmtpAddress));
  return { mailboxes: result.map((r) => r.m), warnings: sortWarnings(warnings) };
}
