/**
 * Small builders for core tests, so that each table row states only what it is about.
 * Defaults mirror the config defaults, except that limits are wide open (limit tests set
 * their own) and removeMembers is on (most diff rules are about removals).
 */
import type {
  DesiredState,
  ExchangeGroup,
  ExchangeSnapshot,
  ExchangeUser,
  GroupMember,
  HelloIdGroup,
  HelloIdSnapshot,
  HelloIdUser,
  Mailbox,
  PermissionEntry,
  SyncOptions,
} from '../../src/core/index.js';

export const BASE_OPTS: SyncOptions = {
  groupSource: 'Local',
  groupPrefix: '',
  groupSuffix: ' Resource Owners',
  removeMembers: true,
  protectedUsers: [],
  expandGroups: true,
  limits: { maxRemovals: 1_000_000, maxRemovalPercent: 100, allowEmptyingGroups: true },
};

export function opts(over: Partial<SyncOptions> = {}): SyncOptions {
  return { ...BASE_OPTS, ...over, limits: { ...BASE_OPTS.limits, ...(over.limits ?? {}) } };
}

/** A FullAccess row as Exchange sends it (string booleans). */
export function fa(trustee: string, over: Partial<PermissionEntry> = {}): PermissionEntry {
  return { trustee, accessRights: ['FullAccess'], isInherited: 'False', deny: 'False', ...over };
}

/** A deterministic guid from a label, so tests can name guids. */
export function g(label: string): string {
  let h = 0;
  for (const c of label) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `${h.toString(16).padStart(8, '0')}-0000-4000-8000-${label.length.toString(16).padStart(12, '0')}`;
}

export function mailbox(displayName: string, smtp: string, permissions: PermissionEntry[] | null, over: Partial<Mailbox> = {}): Mailbox {
  return { guid: g(`mbx:${smtp}`), displayName, primarySmtpAddress: smtp, permissions, ...over };
}

export function xuser(upn: string, over: Partial<ExchangeUser> = {}): ExchangeUser {
  return { userPrincipalName: upn, displayName: upn.split('@')[0], externalDirectoryObjectId: g(`ext:${upn.toLowerCase()}`), guid: g(`xg:${upn.toLowerCase()}`), ...over };
}

/** A group member entry for an Exchange user, as Get-DistributionGroupMember returns it (no UPN). */
export function userMember(u: ExchangeUser): GroupMember {
  return { name: u.displayName ?? u.userPrincipalName, externalDirectoryObjectId: u.externalDirectoryObjectId, recipientTypeDetails: 'UserMailbox' };
}

export function groupMember(grp: ExchangeGroup): GroupMember {
  return { name: grp.name, guid: grp.guid, recipientTypeDetails: 'MailUniversalSecurityGroup' };
}

export function xgroup(name: string, members: GroupMember[] | null, over: Partial<ExchangeGroup> = {}): ExchangeGroup {
  return { name, guid: g(`grp:${name}`), primarySmtpAddress: `${name.toLowerCase()}@contoso.com`, recipientTypeDetails: 'MailUniversalSecurityGroup', members, ...over };
}

export function snapshot(mailboxes: Mailbox[], users: ExchangeUser[] = [], groups: ExchangeGroup[] = []): ExchangeSnapshot {
  return { mailboxes, users, groups };
}

export function huser(userName: string, guid = g(`hu:${userName.toLowerCase()}`)): HelloIdUser {
  return { userGuid: guid, userName };
}

export function hgroup(name: string, members: string[] | null, over: Partial<HelloIdGroup> = {}): HelloIdGroup {
  return { groupGuid: g(`hg:${name}`), name, source: 'Local', members, ...over };
}

export function helloid(users: HelloIdUser[], groups: HelloIdGroup[]): HelloIdSnapshot {
  return { users, groups };
}

export function emptyDesired(): DesiredState {
  return { mailboxes: [], warnings: [] };
}
