/**
 * Desired state (spec §3 rules 2–3, §5): who holds FullAccess on each in-scope shared
 * mailbox, derived from the Exchange snapshot and the config alone — never from HelloID.
 *
 * Each rule is one function below, in the order the spec states them:
 *   rule 2  isEffectiveFullAccess, isSystemTrustee
 *   rule 3  resolveTrustee (user, group, or unknown), expandGroup (recursive, cycle-safe)
 * and `holdersOf` puts them together for one mailbox.
 *
 * The safety half of the result is `DesiredMailbox.unknown`: every reason the holders of a
 * mailbox may be more than `holders` lists — a failed read, a failed lookup, an unresolved,
 * ambiguous or unexpanded trustee or group member. The diff holds the removals of any
 * group behind such a mailbox (rule 6), so nobody who may hold FullAccess is removed.
 */
import { parseBool } from './bool.js';
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
  Mailbox,
  PermissionEntry,
  SyncOptions,
  UnknownHolders,
  Warning,
  WarningCode,
} from './types.js';

/** The part of the sync options desired state depends on. */
export type DesiredStateOptions = Pick<SyncOptions, 'groupPrefix' | 'groupSuffix' | 'expandGroups'>;

// ---------------------------------------------------------------------------------
// Rule 2: which permission rows count

/**
 * Exchange Online's own forest admin groups, e.g. `NAMPR01A001\Organization Management`,
 * `EURPR05A002\Recipient Management`: a region code, `PR`, two digits, `A`, three digits.
 */
const FOREST_ADMIN_GROUP = /^[a-z]{3}pr\d{2}a\d{3}\\/i;
const NT_AUTHORITY = /^nt authority\\/i;
const SID = /^s-1-5-/i;

/**
 * System trustees are ignored without a warning: `NT AUTHORITY\*`, `S-1-5-…` SIDs of
 * deleted principals, and Exchange Online's forest admin groups. Any other `DOMAIN\name`
 * (an on-premises group, say) is NOT a system trustee: it is unresolved, so it holds
 * removals (spec §3 rule 2).
 */
export function isSystemTrustee(trustee: string): boolean {
  const t = trustee.trim();
  return NT_AUTHORITY.test(t) || SID.test(t) || FOREST_ADMIN_GROUP.test(t);
}

/**
 * Whether a row's AccessRights grant FullAccess. Seen on the wire as an array and as one
 * comma-separated string ("FullAccess, ReadPermission"), so both are accepted.
 */
export function hasFullAccess(accessRights: unknown): boolean {
  const items = typeof accessRights === 'string' ? [accessRights] : Array.isArray(accessRights) ? accessRights : [];
  return items.some((item) => typeof item === 'string' && item.split(',').some((r) => r.trim().toLowerCase() === 'fullaccess'));
}

/** Keep a row iff it grants FullAccess and is neither Deny nor inherited (spec §3 rule 2). */
export function isEffectiveFullAccess(row: PermissionEntry): boolean {
  return hasFullAccess(row.accessRights) && !parseBool(row.deny) && !parseBool(row.isInherited);
}

// ---------------------------------------------------------------------------------
// Lookups over the snapshot

function key(s: string | undefined | null): string | undefined {
  if (typeof s !== 'string') return undefined;
  const t = s.trim().toLowerCase();
  return t === '' ? undefined : t;
}

/** Append `value` under `k` (no duplicates). */
function addTo<T>(map: Map<string, T[]>, k: string | undefined, value: T): void {
  if (k === undefined) return;
  const list = map.get(k);
  if (!list) map.set(k, [value]);
  else if (!list.includes(value)) list.push(value);
}

/** One result of a lookup: exactly one match, several, or none. */
type Found<T> = { kind: 'one'; item: T } | { kind: 'several'; items: T[] } | { kind: 'none' };

function found<T>(list: T[] | undefined): Found<T> {
  if (!list || list.length === 0) return { kind: 'none' };
  return list.length === 1 ? { kind: 'one', item: list[0] as T } : { kind: 'several', items: list };
}

/** Exchange users by each of their identities. Users sharing a UPN are one user. */
class Users {
  private readonly byUpn = new Map<string, ExchangeUser[]>();
  private readonly byId = new Map<string, ExchangeUser[]>();
  private readonly byName = new Map<string, ExchangeUser[]>();

  constructor(users: readonly ExchangeUser[]) {
    const canonical = new Map<string, ExchangeUser>();
    for (const u of users) {
      const k = key(u.userPrincipalName);
      if (k === undefined) continue;
      const prev = canonical.get(k);
      // Which record stands for a duplicated UPN is decided by content, not input order.
      if (!prev || userSortKey(u) < userSortKey(prev)) canonical.set(k, u);
    }
    for (const [k, u] of canonical) {
      this.byUpn.set(k, [u]);
      addTo(this.byId, key(u.externalDirectoryObjectId), u);
      addTo(this.byId, key(u.guid), u);
      addTo(this.byName, key(u.name), u);
    }
  }

  /** A trustee names a user by UPN, case-insensitively (spec §3 rule 3). */
  byPrincipalName(upn: string): ExchangeUser | undefined {
    return this.byUpn.get(key(upn) ?? '')?.[0];
  }

  /**
   * A group member is a user when one of its ids, its UPN or its SMTP address (the UPN in
   * most tenants) or, for Get-Group's name-only members, its Name points at one user.
   */
  member(m: GroupMember): Found<ExchangeUser> {
    const candidates = [
      this.byId.get(key(m.externalDirectoryObjectId) ?? ''),
      this.byId.get(key(m.guid) ?? ''),
      this.byUpn.get(key(m.userPrincipalName) ?? ''),
      this.byUpn.get(key(m.primarySmtpAddress) ?? ''),
      this.byName.get(key(m.name) ?? ''),
    ];
    for (const list of candidates) if (list && list.length > 0) return found(list);
    return { kind: 'none' };
  }
}

function userSortKey(u: ExchangeUser): string {
  return [u.userPrincipalName.toLowerCase(), u.guid ?? '', u.externalDirectoryObjectId ?? '', u.userPrincipalName, u.displayName ?? ''].join('\u0000');
}

type GroupAttr = 'name' | 'displayName' | 'primarySmtpAddress' | 'alias' | 'guid' | 'externalDirectoryObjectId';

/** A permission row shows a group by Name, but any of its identities is accepted, in this order. */
const TRUSTEE_ATTRS: readonly GroupAttr[] = ['name', 'displayName', 'primarySmtpAddress', 'alias', 'guid', 'externalDirectoryObjectId'];
/** A group member carries ids: they are tried before names. */
const MEMBER_ATTRS: readonly GroupAttr[] = ['guid', 'externalDirectoryObjectId', 'name', 'primarySmtpAddress', 'alias', 'displayName'];

/** Exchange groups by each of their identities. */
class Groups {
  private readonly by = new Map<GroupAttr, Map<string, ExchangeGroup[]>>();

  constructor(groups: readonly ExchangeGroup[]) {
    for (const a of TRUSTEE_ATTRS) this.by.set(a, new Map());
    const sorted = [...groups].filter((g) => typeof g.name === 'string').sort((x, y) => cmp(groupSortKey(x), groupSortKey(y)));
    for (const g of sorted) for (const a of TRUSTEE_ATTRS) addTo(this.by.get(a) as Map<string, ExchangeGroup[]>, key(g[a]), g);
  }

  /** The first identity in `attrs` order that names any group decides. */
  find(values: Partial<Record<GroupAttr, string | undefined>>, attrs: readonly GroupAttr[]): Found<ExchangeGroup> {
    for (const a of attrs) {
      const list = this.by.get(a)?.get(key(values[a]) ?? '');
      if (list) return found(list);
    }
    return { kind: 'none' };
  }
}

function groupSortKey(g: ExchangeGroup): string {
  return `${g.name.toLowerCase()}\u0000${(g.guid ?? '').toLowerCase()}\u0000${g.name}`;
}

/** Everything the rules look things up in. */
interface Context {
  users: Users;
  groups: Groups;
  /** Identities whose own lookup failed for good (lower-cased) → why. */
  failedLookups: Map<string, string>;
  expandGroups: boolean;
  /** One expansion per group: it does not depend on the mailbox. */
  expansions: Map<ExchangeGroup, Expansion>;
}

// ---------------------------------------------------------------------------------
// Rule 3: trustee resolution and group expansion

/** Something a reviewer must read: a warning, and whether it makes the holders unknown. */
interface Finding {
  code: WarningCode;
  subject: string;
  message: string;
  /** Set when the holders are not fully known because of it (rule 6). */
  unknown?: UnknownHolders;
}

type Resolution =
  | { kind: 'user'; user: ExchangeUser }
  | { kind: 'group'; group: ExchangeGroup }
  | { kind: 'unknown'; finding: Finding };

const HELD = "so nobody is removed from the mailbox's owner group";

function unknownFinding(code: WarningCode, subject: string, reason: string, message: string): Finding {
  return { code, subject, message, unknown: { subject, reason } };
}

/**
 * What a FullAccess trustee is: a user (by UPN), a group to expand, or unknown. A failed
 * lookup stays a failed lookup even if a group of the same name was reached another way
 * (issue 17 story 4): that group may not be this trustee.
 */
function resolveTrustee(trustee: string, mailbox: string, ctx: Context): Resolution {
  const user = ctx.users.byPrincipalName(trustee);
  if (user) return { kind: 'user', user };
  const failed = ctx.failedLookups.get(trustee.toLowerCase());
  if (failed !== undefined) {
    return {
      kind: 'unknown',
      finding: unknownFinding('group-read-failed', trustee, 'lookup failed', `FullAccess trustee '${trustee}' on ${mailbox} could not be looked up (${failed}); it may be a group, ${HELD}`),
    };
  }
  const group = ctx.groups.find(Object.fromEntries(TRUSTEE_ATTRS.map((a) => [a, trustee])), TRUSTEE_ATTRS);
  if (group.kind === 'several') {
    const names = group.items.map((g) => g.name).join(', ');
    return {
      kind: 'unknown',
      finding: unknownFinding('unresolved-trustee', trustee, `matches several groups (${names})`, `FullAccess trustee '${trustee}' on ${mailbox} matches several groups (${names}), ${HELD}`),
    };
  }
  if (group.kind === 'none') {
    const reason = ctx.expandGroups ? 'neither a known user (UPN) nor a group Exchange could find' : 'not a known user (UPN); group expansion is off';
    return {
      kind: 'unknown',
      finding: unknownFinding('unresolved-trustee', trustee, reason, `FullAccess trustee '${trustee}' on ${mailbox} is ${reason}, ${HELD}`),
    };
  }
  if (!ctx.expandGroups) {
    const g = group.item.name;
    return {
      kind: 'unknown',
      finding: unknownFinding('unresolved-trustee', trustee, 'a group, not expanded (exchange.expandGroups: false)', `FullAccess on ${mailbox} is granted to group '${g}', but group expansion is off (exchange.expandGroups: false): its members are unknown, ${HELD}`),
    };
  }
  return { kind: 'group', group: group.item };
}

interface Grant {
  user: ExchangeUser;
  /** Group names from the trustee down to the group holding the user. */
  chain: string[];
}

interface Expansion {
  grants: Grant[];
  findings: Finding[];
}

/** Bounds on one expansion (every simple path is provenance); past them the holders are unknown. */
const MAX_GROUP_VISITS = 10_000;
const MAX_NESTING_DEPTH = 64;

function memberLabel(m: GroupMember): string {
  return m.name ?? m.displayName ?? m.primarySmtpAddress ?? m.userPrincipalName ?? m.guid ?? m.externalDirectoryObjectId ?? '(unnamed member)';
}

/**
 * Whether a RecipientTypeDetails names a group (MailUniversalSecurityGroup, …): such a
 * member is expanded, never taken for a user. The Exchange client asks the same
 * question when it reads nested groups, so it imports this one.
 */
export function isGroupType(rtd: string | undefined): boolean {
  return rtd !== undefined && rtd.toLowerCase().includes('group');
}

/** Mail contacts are no security principals: membership gives them no mailbox access. */
function isContact(rtd: string | undefined): boolean {
  return rtd !== undefined && rtd.toLowerCase().includes('contact');
}

/**
 * A trustee group's user members, recursively, with every chain that grants access. A
 * group is not re-entered while it is its own ancestor (cycles). Every member that is
 * neither a user nor a group that could be read makes the holders unknown.
 */
function expandGroup(top: ExchangeGroup, ctx: Context): Expansion {
  const memo = ctx.expansions.get(top);
  if (memo) return memo;
  const grants: Grant[] = [];
  const findings: Finding[] = [];
  const path: ExchangeGroup[] = [];
  let visits = 0;
  let tooBig = false;

  const visit = (g: ExchangeGroup): void => {
    path.push(g);
    const chain = path.map((p) => p.name);
    const where = `group '${g.name}'${chain.length > 1 ? ` (nested: ${chain.join(' > ')})` : ''}`;
    if (!Array.isArray(g.members)) {
      findings.push(unknownFinding('group-read-failed', g.name, 'members could not be read', `members of ${where} could not be read${g.memberError ? `: ${g.memberError}` : ''}, ${HELD}`));
    } else {
      for (const m of g.members) {
        const label = memberLabel(m);
        const user = isGroupType(m.recipientTypeDetails) ? ({ kind: 'none' } as const) : ctx.users.member(m);
        if (user.kind === 'one') {
          grants.push({ user: user.item, chain });
          continue;
        }
        if (user.kind === 'several') {
          findings.push(unknownFinding('unresolved-trustee', label, `member of '${g.name}' matches several users`, `member '${label}' of ${where} matches several Exchange users, ${HELD}`));
          continue;
        }
        const nested = ctx.groups.find(m, MEMBER_ATTRS);
        if (nested.kind === 'one') {
          if (path.includes(nested.item)) continue; // a cycle: its users are reached anyway
          if (++visits > MAX_GROUP_VISITS || path.length >= MAX_NESTING_DEPTH) tooBig = true;
          else visit(nested.item);
          continue;
        }
        // A member known only by name (Get-Group) that the client could not look up.
        const failed = ctx.failedLookups.get(label.toLowerCase());
        if (failed !== undefined) {
          findings.push(unknownFinding('group-read-failed', label, 'lookup failed', `member '${label}' of ${where} could not be looked up (${failed}), ${HELD}`));
          continue;
        }
        if (isContact(m.recipientTypeDetails)) {
          findings.push({ code: 'unresolved-trustee', subject: label, message: `member '${label}' (${m.recipientTypeDetails}) of ${where} is a mail contact, which cannot open a mailbox; ignored` });
          continue;
        }
        const unread = nested.kind === 'none' && isGroupType(m.recipientTypeDetails);
        const reason = nested.kind === 'several' ? 'matches several groups' : unread ? 'a nested group that was not read' : 'not a user or group Exchange knows';
        findings.push(unknownFinding(unread ? 'group-read-failed' : 'unresolved-trustee', label, `member of '${g.name}': ${reason}`, `member '${label}'${m.recipientTypeDetails ? ` (${m.recipientTypeDetails})` : ''} of ${where} is ${reason}, ${HELD}`));
      }
    }
    path.pop();
  };
  visit(top);

  // What was reached before a bound depends on member order: report none of it.
  const result: Expansion = tooBig
    ? {
        grants: [],
        findings: [unknownFinding('group-read-failed', top.name, 'nesting too deep or too wide to expand', `nesting under group '${top.name}' is too deep or too wide to expand (over ${MAX_NESTING_DEPTH} levels or ${MAX_GROUP_VISITS} group paths), ${HELD}`)],
      }
    : { grants, findings };
  ctx.expansions.set(top, result);
  return result;
}

// ---------------------------------------------------------------------------------
// One mailbox

/** The holders of one mailbox, keyed by lower-cased UPN, while its rows are read. */
class HolderSet {
  private readonly holders = new Map<string, Holder>();

  private get(u: ExchangeUser): Holder {
    const k = u.userPrincipalName.toLowerCase();
    let h = this.holders.get(k);
    if (!h) {
      // Fixed key order (displayName only when known) for byte-identical output.
      h = u.displayName !== undefined ? { userPrincipalName: u.userPrincipalName, displayName: u.displayName, direct: false, via: [] } : { userPrincipalName: u.userPrincipalName, direct: false, via: [] };
      this.holders.set(k, h);
    }
    return h;
  }

  direct(u: ExchangeUser): void {
    this.get(u).direct = true;
  }

  via(u: ExchangeUser, chain: string[]): void {
    const h = this.get(u);
    if (!h.via.some((c) => c.join('\u0000') === chain.join('\u0000'))) h.via.push(chain);
  }

  /** Sorted by UPN (case-insensitive), each holder's chains sorted. */
  sorted(): Holder[] {
    const chainKey = (c: string[]): string => c.join('\u0000');
    return [...this.holders.entries()]
      .sort(([a], [b]) => cmp(a, b))
      .map(([, h]) => ({ ...h, via: [...h.via].sort((x, y) => cmp(chainKey(x).toLowerCase(), chainKey(y).toLowerCase()) || cmp(chainKey(x), chainKey(y))) }));
  }
}

/** The FullAccess holders of one mailbox, and the findings (warnings, unknowns) on the way. */
function holdersOf(mb: Mailbox, ctx: Context): { holders: Holder[]; findings: Finding[] } {
  const mailbox = mb.primarySmtpAddress;
  const holders = new HolderSet();
  const findings: Finding[] = [];
  if (!Array.isArray(mb.permissions)) {
    const why = mb.permissionError ? ` (${mb.permissionError})` : '';
    findings.push(unknownFinding('incomplete-read', mailbox, 'FullAccess permissions could not be read', `FullAccess permissions of mailbox ${mailbox} could not be read${why}; its holders are unknown, ${HELD}`));
    return { holders: [], findings };
  }
  for (const row of mb.permissions) {
    if (!isEffectiveFullAccess(row)) continue;
    const trustee = typeof row.trustee === 'string' ? row.trustee.trim() : '';
    if (trustee === '') {
      findings.push(unknownFinding('unresolved-trustee', '(empty trustee)', 'a FullAccess entry with an empty trustee', `a FullAccess entry on ${mailbox} has an empty trustee, ${HELD}`));
      continue;
    }
    if (isSystemTrustee(trustee)) continue;
    const r = resolveTrustee(trustee, mailbox, ctx);
    if (r.kind === 'user') holders.direct(r.user);
    else if (r.kind === 'unknown') findings.push(r.finding);
    else {
      const exp = expandGroup(r.group, ctx);
      for (const g of exp.grants) holders.via(g.user, g.chain);
      findings.push(...exp.findings);
    }
  }
  return { holders: holders.sorted(), findings };
}

function uniqueUnknowns(findings: readonly Finding[]): UnknownHolders[] {
  const byKey = new Map<string, UnknownHolders>();
  for (const f of findings) {
    if (!f.unknown) continue;
    const k = `${f.unknown.subject.toLowerCase()}\u0000${f.unknown.reason}`;
    const prev = byKey.get(k);
    // Spellings that differ only in case are one subject; which is shown is decided by content.
    if (!prev || cmp(f.unknown.subject, prev.subject) < 0) byKey.set(k, f.unknown);
  }
  return [...byKey.entries()].sort(([a], [b]) => cmp(a, b)).map(([, u]) => u);
}

/**
 * Derive the desired state. Pure: the same snapshot and options, in any input order, give
 * a deep-equal result.
 */
export function computeDesiredState(snapshot: ExchangeSnapshot, opts: DesiredStateOptions): DesiredState {
  const ctx: Context = {
    users: new Users(snapshot.users),
    groups: new Groups(snapshot.groups),
    failedLookups: new Map((snapshot.failedLookups ?? []).map((f) => [f.identity.trim().toLowerCase(), f.error])),
    expandGroups: opts.expandGroups,
    expansions: new Map(),
  };
  const warnings: Warning[] = (snapshot.serviceWarnings ?? []).map((w) => ({
    code: 'exchange-warning',
    subject: w.cmdlet,
    message: `Exchange warned on ${w.cmdlet}: ${w.message}`,
  }));
  const mailboxes: DesiredMailbox[] = snapshot.mailboxes.map((mb) => {
    const { holders, findings } = holdersOf(mb, ctx);
    for (const f of findings) warnings.push({ code: f.code, mailbox: mb.primarySmtpAddress, subject: f.subject, message: f.message });
    const unknown = uniqueUnknowns(findings);
    return {
      guid: mb.guid.toLowerCase(),
      displayName: mb.displayName,
      primarySmtpAddress: mb.primarySmtpAddress,
      ownerGroupName: ownerGroupName(mb.displayName, opts),
      holders,
      unknown,
    };
  });
  mailboxes.sort((a, b) => cmp(a.ownerGroupName.toLowerCase(), b.ownerGroupName.toLowerCase()) || cmp(a.guid, b.guid) || cmp(a.ownerGroupName, b.ownerGroupName) || cmp(a.primarySmtpAddress, b.primarySmtpAddress));
  const state: DesiredState = { mailboxes, warnings: sortWarnings(warnings) };
  if (snapshot.outsideFilter && snapshot.outsideFilter.length > 0) {
    state.outsideFilter = snapshot.outsideFilter
      .map((m) => ({ displayName: m.displayName, primarySmtpAddress: m.primarySmtpAddress, ownerGroupName: ownerGroupName(m.displayName, opts) }))
      .sort((a, b) => cmp(a.ownerGroupName.toLowerCase(), b.ownerGroupName.toLowerCase()) || cmp(a.primarySmtpAddress, b.primarySmtpAddress));
  }
  return state;
}
