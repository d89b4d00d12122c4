/**
 * The diff of the desired state against HelloID (spec §3 rules 4–6): which users to add
 * to and remove from which resource-owner group.
 *
 * The diff is on (groupGuid, userGuid) pairs, never on the user alone — the original task
 * keyed on the user id and so never added a user who already owned mailbox A to B's
 * group, and never removed a user still owning B from A's group.
 *
 * Removals are the dangerous half. A member is removed only when every one of these holds
 * (otherwise the member is "kept", with the reason):
 *   - `removeMembers` is on and the user is not protected (by userName or GUID);
 *   - the member is a HelloID user (a GUID HelloID cannot find is kept: rule 6);
 *   - nothing holds the group's removals (`holdReasons`): the holders of every mailbox
 *     behind it are fully known (desired.ts) and each maps to exactly one HelloID user
 *     (rule 4), no mailbox outside the filter or with an ambiguous owner-group name may
 *     share the group, and its members were read.
 * Reasons are display text only; apply works on the GUIDs.
 *
 * Two mailboxes can map to one HelloID group (equal display names, or names that differ
 * only in case or diacritics). Its desired members are then the union of both mailboxes'
 * holders, and an 'ambiguous-owner-group' warning names the mailboxes.
 */
import { checkLimits } from './limits.js';
import { buildOwnerGroupIndex, isLocalSource, type OwnerGroupIndex } from './naming.js';
import { cmp, sortWarnings } from './order.js';
import type {
  Change,
  DesiredMailbox,
  DesiredState,
  DiffResult,
  HelloIdGroup,
  HelloIdSnapshot,
  HelloIdUser,
  Holder,
  KeptMember,
  ManagedGroup,
  SyncOptions,
  Warning,
} from './types.js';

/** HelloID users by lower-cased GUID and by lower-cased userName (a name may have several). */
interface HelloIdUsers {
  byGuid: Map<string, HelloIdUser>;
  byName: Map<string, HelloIdUser[]>;
}

function indexHelloIdUsers(users: readonly HelloIdUser[]): HelloIdUsers {
  const byGuid = new Map<string, HelloIdUser>();
  for (const u of users) {
    if (typeof u.userGuid !== 'string' || typeof u.userName !== 'string') continue;
    const guid = u.userGuid.toLowerCase();
    const prev = byGuid.get(guid);
    // A user listed twice (paging is no snapshot): one copy, chosen by content.
    if (!prev || cmp(u.userName, prev.userName) < 0) byGuid.set(guid, u.userGuid === guid ? u : { ...u, userGuid: guid });
  }
  const byName = new Map<string, HelloIdUser[]>();
  for (const u of byGuid.values()) {
    const k = u.userName.toLowerCase();
    const list = byName.get(k);
    if (list) list.push(u);
    else byName.set(k, [u]);
  }
  for (const list of byName.values()) list.sort((a, b) => cmp(a.userGuid, b.userGuid));
  return { byGuid, byName };
}

/** A managed HelloID group and the in-scope mailboxes it is the owner group of. */
interface OwnedGroup {
  group: HelloIdGroup;
  guid: string;
  mailboxes: DesiredMailbox[];
}

function sourceLabel(opts: SyncOptions): string {
  return isLocalSource(opts.groupSource) ? 'Local' : opts.groupSource;
}

/** Rule 5: each mailbox's owner group; mailboxes with none or several are skipped with a warning. */
function matchOwnerGroups(desired: DesiredState, index: OwnerGroupIndex, opts: SyncOptions, warnings: Warning[]): OwnedGroup[] {
  const byGuid = new Map<string, OwnedGroup>();
  for (const mb of desired.mailboxes) {
    const m = index.match(mb.ownerGroupName);
    if (m.kind === 'none') {
      warnings.push({
        code: 'no-owner-group',
        mailbox: mb.primarySmtpAddress,
        subject: mb.ownerGroupName,
        message: `no HelloID group named '${mb.ownerGroupName}' with source '${sourceLabel(opts)}' (also tried without diacritics); mailbox ${mb.primarySmtpAddress} skipped`,
      });
    } else if (m.kind === 'ambiguous') {
      warnings.push({
        code: 'ambiguous-owner-group',
        mailbox: mb.primarySmtpAddress,
        subject: mb.ownerGroupName,
        message: `several HelloID groups with source '${sourceLabel(opts)}' match '${mb.ownerGroupName}': ${m.candidates.map((g) => `'${g.name}' (${g.groupGuid.toLowerCase()})`).join(', ')}; mailbox ${mb.primarySmtpAddress} skipped`,
      });
    } else {
      const guid = m.group.groupGuid.toLowerCase();
      const owned = byGuid.get(guid);
      if (owned) owned.mailboxes.push(mb);
      else byGuid.set(guid, { group: m.group, guid, mailboxes: [mb] });
    }
  }
  return [...byGuid.values()].sort((a, b) => cmp(a.group.name.toLowerCase(), b.group.name.toLowerCase()) || cmp(a.guid, b.guid));
}

/** Group GUID → the mailboxes it may belong to by `name` of each, as `match` finds them: the group, or each candidate of an ambiguous name. */
function mailboxesByGroup(mailboxes: ReadonlyArray<{ ownerGroupName: string; primarySmtpAddress: string }>, index: OwnerGroupIndex, kinds: ReadonlyArray<'match' | 'ambiguous'>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const mb of mailboxes) {
    const m = index.match(mb.ownerGroupName);
    const groups = m.kind === 'match' && kinds.includes('match') ? [m.group] : m.kind === 'ambiguous' && kinds.includes('ambiguous') ? m.candidates : [];
    for (const g of groups) {
      const guid = g.groupGuid.toLowerCase();
      out.set(guid, [...(out.get(guid) ?? []), mb.primarySmtpAddress]);
    }
  }
  return out;
}

/** How a user is desired in a group: the mailbox grants behind it. */
interface Wanted {
  user: HelloIdUser;
  grants: Array<{ mailbox: DesiredMailbox; holder: Holder }>;
}

/**
 * Rule 4: the HelloID users the holders map to (UPN ↔ userName, case-insensitive), and the
 * holders that map to none or to several — each of whom makes the mapping unknown.
 */
function desiredMembers(owned: OwnedGroup, users: HelloIdUsers, warnings: Warning[]): { wanted: Map<string, Wanted>; unmapped: string[] } {
  const wanted = new Map<string, Wanted>();
  const unmapped: string[] = [];
  for (const mb of owned.mailboxes) {
    for (const holder of mb.holders) {
      const upn = holder.userPrincipalName;
      const matches = users.byName.get(upn.toLowerCase()) ?? [];
      if (matches.length !== 1) {
        const what = matches.length === 0 ? `no HelloID user with userName '${upn}'` : `userName '${upn}' matches ${matches.length} HelloID users (${matches.map((u) => u.userGuid).join(', ')})`;
        warnings.push({
          code: 'no-helloid-user',
          mailbox: mb.primarySmtpAddress,
          subject: upn,
          message: `${what} (FullAccess holder of ${mb.primarySmtpAddress}); not added, and no member of '${owned.group.name}' is removed, as one of them may be this person under another name`,
        });
        unmapped.push(matches.length === 0 ? `FullAccess holder ${upn} has no HelloID user` : `FullAccess holder ${upn} matches ${matches.length} HelloID users`);
        continue;
      }
      const user = matches[0] as HelloIdUser;
      const w = wanted.get(user.userGuid);
      if (w) w.grants.push({ mailbox: mb, holder });
      else wanted.set(user.userGuid, { user, grants: [{ mailbox: mb, holder }] });
    }
  }
  return { wanted, unmapped };
}

/** Rule 6: every reason the removals from this group are held (empty: none). */
function holdReasons(owned: OwnedGroup, unmapped: readonly string[], others: { outside: readonly string[]; ambiguous: readonly string[] }): string[] {
  const reasons: string[] = [];
  if (!Array.isArray(owned.group.members)) reasons.push('its HelloID members could not be read');
  for (const mb of owned.mailboxes) {
    for (const u of mb.unknown) reasons.push(`holders of ${mb.primarySmtpAddress} not fully known: ${u.subject} (${u.reason})`);
  }
  reasons.push(...[...new Set(unmapped)].sort());
  for (const smtp of others.outside) reasons.push(`the group also belongs to mailbox ${smtp}, outside exchange.mailboxFilter, whose holders were not read`);
  for (const smtp of others.ambiguous) reasons.push(`mailbox ${smtp} may also own the group: its owner-group name matches several groups`);
  return reasons;
}

/** A short form of the hold reasons for one kept line (the warnings carry every detail). */
function heldText(reasons: readonly string[]): string {
  const shown = reasons.slice(0, 3).join('; ');
  return `removals held: ${shown}${reasons.length > 3 ? `; and ${reasons.length - 3} more` : ''}`;
}

function grantText(w: Wanted, shared: boolean): string {
  const parts: string[] = [];
  for (const { mailbox, holder } of w.grants) {
    const on = shared ? ` on ${mailbox.primarySmtpAddress}` : '';
    if (holder.direct) parts.push(`FullAccess (direct)${on}`);
    for (const chain of holder.via) parts.push(`FullAccess via group ${chain.join(' > ')}${on}`);
  }
  return parts.join('; ');
}

function isProtected(protectedKeys: ReadonlySet<string>, user: HelloIdUser): boolean {
  return protectedKeys.has(user.userName.toLowerCase()) || protectedKeys.has(user.userGuid);
}

function mailboxList(mbs: readonly DesiredMailbox[]): string {
  return mbs.map((m) => m.primarySmtpAddress).join(', ');
}

/** The member reasons and warnings for GUIDs HelloID does not know as users. */
function unknownMemberText(guid: string, failed: ReadonlyMap<string, string>): string {
  const error = failed.get(guid);
  return error !== undefined ? `not in HelloID's user list, and looking it up failed (${error})` : "not a HelloID user (absent from the user list and GET /users/{guid}: a deleted user?)";
}

interface GroupDiff {
  group: ManagedGroup;
  changes: Change[];
  kept: KeptMember[];
}

/** Rules 4–6 for one group. */
function diffGroup(owned: OwnedGroup, users: HelloIdUsers, ctx: { opts: SyncOptions; protectedKeys: Set<string>; outside: string[]; ambiguous: string[]; failedUsers: Map<string, string>; warnings: Warning[] }): GroupDiff {
  const { group, guid, mailboxes } = owned;
  const { opts, warnings } = ctx;
  const groupName = group.name;
  const mailbox = (mailboxes[0] as DesiredMailbox).primarySmtpAddress;
  const shared = mailboxes.length > 1;
  if (shared) {
    warnings.push({
      code: 'ambiguous-owner-group',
      mailbox,
      subject: groupName,
      message: `HelloID group '${groupName}' is the owner group of ${mailboxes.length} mailboxes (${mailboxList(mailboxes)}); its desired members are the union of their FullAccess holders`,
    });
  }
  for (const smtp of ctx.outside) {
    warnings.push({
      code: 'owner-group-outside-filter',
      mailbox,
      subject: groupName,
      message: `HelloID group '${groupName}' is also the owner group of mailbox ${smtp}, which exchange.mailboxFilter leaves out; its holders were not read, so nobody is removed from the group (rename one mailbox, or widen the filter)`,
    });
  }

  const { wanted, unmapped } = desiredMembers(owned, users, warnings);
  const held = holdReasons(owned, unmapped, ctx);
  const members = Array.isArray(group.members) ? [...new Set(group.members.filter((m) => typeof m === 'string').map((m) => m.toLowerCase()))].sort() : undefined;
  const base = { groupGuid: guid, groupName, mailbox };
  if (members === undefined) {
    warnings.push({
      code: 'incomplete-read',
      mailbox,
      subject: groupName,
      message: `members of HelloID group '${groupName}' could not be read${group.memberError ? ` (${group.memberError})` : ''}; no changes are planned for it (apply could not verify a group whose members are unknown); run plan again`,
    });
    return { group: { ...base, observedMembers: [], plannedMembers: [], holdReasons: held }, changes: [], kept: [] };
  }

  const changes: Change[] = [];
  const kept: KeptMember[] = [];
  const current = new Set(members);
  for (const [userGuid, w] of wanted) {
    if (current.has(userGuid)) continue;
    changes.push({ action: 'add', groupGuid: guid, groupName, userGuid, userName: w.user.userName, mailbox: (w.grants[0] as Wanted['grants'][number]).mailbox.primarySmtpAddress, reason: grantText(w, shared) });
  }
  const keep = (userGuid: string, userName: string, reason: string): void => {
    kept.push({ groupGuid: guid, groupName, userGuid, userName, mailbox, reason });
  };
  for (const userGuid of members) {
    if (wanted.has(userGuid)) continue;
    const user = users.byGuid.get(userGuid);
    if (!user) {
      const why = unknownMemberText(userGuid, ctx.failedUsers);
      warnings.push({ code: 'unknown-helloid-member', mailbox, subject: userGuid, message: `member ${userGuid} of HelloID group '${groupName}' is ${why}; kept` });
      keep(userGuid, userGuid, why);
    } else if (!opts.removeMembers) keep(userGuid, user.userName, 'removeMembers is false');
    else if (isProtected(ctx.protectedKeys, user)) keep(userGuid, user.userName, 'protected user');
    else if (held.length > 0) keep(userGuid, user.userName, heldText(held));
    else changes.push({ action: 'remove', groupGuid: guid, groupName, userGuid, userName: user.userName, mailbox, reason: `no longer holds FullAccess on ${mailboxList(mailboxes)}` });
  }

  const byUser = (a: { userName: string; userGuid: string }, b: { userName: string; userGuid: string }): number => cmp(a.userName.toLowerCase(), b.userName.toLowerCase()) || cmp(a.userGuid, b.userGuid);
  changes.sort((a, b) => byUser(a, b) || cmp(a.action, b.action));
  kept.sort(byUser);
  const planned = new Set(current);
  for (const c of changes) {
    if (c.action === 'add') planned.add(c.userGuid);
    else planned.delete(c.userGuid);
  }
  return { group: { ...base, observedMembers: members, plannedMembers: [...planned].sort(), holdReasons: held }, changes, kept };
}

/**
 * Diff `desired` against `helloid`. Every matched group appears in `groups` (changed or
 * not); `limitViolations` is filled by `checkLimits`. Pure and deterministic: the same
 * inputs in any order give a deep-equal result.
 */
export function computeDiff(desired: DesiredState, helloid: HelloIdSnapshot, opts: SyncOptions): DiffResult {
  const warnings: Warning[] = [...desired.warnings];
  const index = buildOwnerGroupIndex(helloid.groups, opts);
  const users = indexHelloIdUsers(helloid.users);
  // Mailboxes whose holders this diff does not count, by the groups they may own: outside
  // the filter (issue 17 story 2; an ambiguous name may mean any of its groups), and in
  // scope but skipped for an ambiguous name. Those groups' removals are held (rule 6).
  const outside = mailboxesByGroup(desired.outsideFilter ?? [], index, ['match', 'ambiguous']);
  const ambiguous = mailboxesByGroup(desired.mailboxes, index, ['ambiguous']);
  const ctx = {
    opts,
    protectedKeys: new Set(opts.protectedUsers.map((p) => p.trim().toLowerCase()).filter((p) => p !== '')),
    failedUsers: new Map((helloid.failedUserLookups ?? []).map((f) => [f.userGuid.toLowerCase(), f.error])),
    warnings,
    outside: [] as string[],
    ambiguous: [] as string[],
  };
  const groups: ManagedGroup[] = [];
  const changes: Change[] = [];
  const kept: KeptMember[] = [];
  for (const owned of matchOwnerGroups(desired, index, opts, warnings)) {
    const d = diffGroup(owned, users, { ...ctx, outside: outside.get(owned.guid) ?? [], ambiguous: ambiguous.get(owned.guid) ?? [] });
    groups.push(d.group);
    changes.push(...d.changes);
    kept.push(...d.kept);
  }
  return { groups, changes, kept, warnings: sortWarnings(warnings), limitViolations: checkLimits(groups, changes, opts.limits) };
}
