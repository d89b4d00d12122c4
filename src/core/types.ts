/**
 * Core domain types. `core` is pure: these shapes are what the Exchange and HelloID
 * clients map their wire objects to at their edge. No wire shape leaks in here,
 * except that permission booleans may still be strings ("True"), because Exchange
 * sends them that way and core owns the one tolerant parser for them.
 */

/** A boolean as Exchange may send it: true, "True", "false", null (= false). */
export type LooseBool = boolean | string | null | undefined;

/** One row of Get-MailboxPermission. */
export interface PermissionEntry {
  /** The `User` column: a UPN, a group name, `NT AUTHORITY\SELF`, a SID, `DOMAIN\name`. */
  trustee: string;
  accessRights: string[];
  isInherited: LooseBool;
  deny: LooseBool;
}

/** An in-scope shared mailbox as read from Get-Mailbox, with its permission rows. */
export interface Mailbox {
  /** Exchange `Guid` (stable identity). */
  guid: string;
  displayName: string;
  primarySmtpAddress: string;
  alias?: string;
  /** Permission rows; `null` when the read failed after retries (the mailbox is then "incomplete"). */
  permissions: PermissionEntry[] | null;
  /** Why the permission read failed, when it did (no secrets: method + URL + status). */
  permissionError?: string;
}

/** An Exchange user (Get-User). */
export interface ExchangeUser {
  userPrincipalName: string;
  /** `Name`: how Get-Group lists a user among a security group's `Members`. */
  name?: string;
  displayName?: string;
  /** Entra object id (`ExternalDirectoryObjectId`). */
  externalDirectoryObjectId?: string;
  /** Exchange `Guid`. */
  guid?: string;
}

/** A member of a mail-enabled group (reduced recipient object). */
export interface GroupMember {
  name?: string;
  displayName?: string;
  primarySmtpAddress?: string;
  externalDirectoryObjectId?: string;
  guid?: string;
  /** Present on some members; used when no id matches. */
  userPrincipalName?: string;
  /** `RecipientTypeDetails`, e.g. UserMailbox, MailUniversalSecurityGroup. */
  recipientTypeDetails?: string;
}

/**
 * A group that was read because it is a trustee or nested in one: mail-enabled (found by
 * Get-Recipient, members from Get-DistributionGroupMember) or a security group that is
 * not mail-enabled (found only by Get-Group; its members are names, so each member is a
 * GroupMember with just `name`, unless the client resolved it further).
 */
export interface ExchangeGroup {
  /** The group's Name (what Get-MailboxPermission shows as `User`). */
  name: string;
  displayName?: string;
  primarySmtpAddress?: string;
  alias?: string;
  guid?: string;
  externalDirectoryObjectId?: string;
  /** `RecipientTypeDetails`, e.g. MailUniversalSecurityGroup. */
  recipientTypeDetails: string;
  /** Members; `null` when the member read failed. */
  members: GroupMember[] | null;
  memberError?: string;
}

/**
 * A trustee (or a group member known only by name) whose lookup failed after retries:
 * it may be a group, so every mailbox that names it has unknown holders. Never merged
 * with, nor replaced by, a group that another path resolved (issue 17 story 4).
 */
export interface FailedLookup {
  /** The identity as the permission row or the group's member list gave it. */
  identity: string;
  /** Why (no secrets: method + URL + status + the service's words). */
  error: string;
}

/** A non-empty `@adminapi.warnings` of a reply: reported to the reviewer, never dropped. */
export interface ServiceWarning {
  cmdlet: string;
  message: string;
}

/** Everything read from Exchange. */
export interface ExchangeSnapshot {
  mailboxes: Mailbox[];
  users: ExchangeUser[];
  groups: ExchangeGroup[];
  /** Lookups (Get-Recipient / Get-Group) that failed for good. */
  failedLookups?: FailedLookup[];
  /** `@adminapi.warnings` the service attached to replies. */
  serviceWarnings?: ServiceWarning[];
  /**
   * Shared mailboxes outside `exchange.mailboxFilter` (read only when a filter is set):
   * their owner groups may also be an in-scope mailbox's, whose removals are then held.
   */
  outsideFilter?: OutsideMailbox[];
}

/** A shared mailbox the filter leaves out: only its name matters (issue 17 story 2). */
export interface OutsideMailbox {
  displayName: string;
  primarySmtpAddress: string;
}

export interface HelloIdUser {
  userGuid: string;
  userName: string;
  displayName?: string;
}

export interface HelloIdGroup {
  groupGuid: string;
  name: string;
  /** null or "" means Local. */
  source: string | null;
  /** Member userGUIDs; `null` when not read (not an owner group) or when the read failed. */
  members: string[] | null;
  /** Set when the member read was attempted and failed. */
  memberError?: string;
}

export interface HelloIdSnapshot {
  /** The user list, plus any member looked up on its own because the list lacked it. */
  users: HelloIdUser[];
  groups: HelloIdGroup[];
  /**
   * Member GUIDs the user list lacked whose own lookup (`GET /users/{guid}`) failed for a
   * reason other than "not found". Absent or not listed here, a GUID missing from `users`
   * was not found: a deleted user.
   */
  failedUserLookups?: FailedUserLookup[];
}

export interface FailedUserLookup {
  userGuid: string;
  error: string;
}

/** The sync options core needs (a subset of the effective config). */
export interface SyncOptions {
  groupSource: string;
  groupPrefix: string;
  groupSuffix: string;
  removeMembers: boolean;
  protectedUsers: string[];
  expandGroups: boolean;
  limits: {
    maxRemovals: number;
    maxRemovalPercent: number;
    allowEmptyingGroups: boolean;
  };
}

export type WarningCode =
  | 'unresolved-trustee'
  | 'no-helloid-user'
  | 'no-owner-group'
  | 'ambiguous-owner-group'
  | 'incomplete-read'
  | 'group-read-failed'
  | 'unknown-helloid-member'
  | 'owner-group-outside-filter'
  | 'exchange-warning';

export interface Warning {
  code: WarningCode;
  /** Primary SMTP address of the mailbox concerned, when there is one. */
  mailbox?: string;
  /** The trustee, UPN, group name … the warning is about. */
  subject?: string;
  message: string;
}

/** One FullAccess holder of a mailbox, with how they hold it. */
export interface Holder {
  userPrincipalName: string;
  displayName?: string;
  /** Holds FullAccess directly. */
  direct: boolean;
  /**
   * Each group chain granting access, outermost (the trustee) first, sorted.
   */
  via: string[][];
}

/**
 * Why the FullAccess holders of a mailbox are not fully known (spec §3 rule 6): a failed
 * read, an unresolved, ambiguous or unexpanded trustee or group member. Any one of these
 * holds the removals of the mailbox's owner group.
 */
export interface UnknownHolders {
  /** The trustee, group or member concerned (the mailbox itself for a failed permission read). */
  subject: string;
  /** Plain words, e.g. "Get-Recipient failed: …", "not a user or group Exchange knows". */
  reason: string;
}

export interface DesiredMailbox {
  guid: string;
  displayName: string;
  primarySmtpAddress: string;
  /** groupPrefix + DisplayName + groupSuffix */
  ownerGroupName: string;
  /** Sorted by UPN (case-insensitive). */
  holders: Holder[];
  /** Why some holders may be missing from `holders`, sorted by subject; empty: every holder is known. */
  unknown: UnknownHolders[];
}

/** Derived from Exchange + config alone, never from HelloID (spec §5). */
export interface DesiredState {
  mailboxes: DesiredMailbox[];
  warnings: Warning[];
  /** Shared mailboxes outside the filter, with the owner-group name each maps to. */
  outsideFilter?: Array<OutsideMailbox & { ownerGroupName: string }>;
}

export type Action = 'add' | 'remove';

export interface Change {
  action: Action;
  groupGuid: string;
  groupName: string;
  userGuid: string;
  userName: string;
  /** Primary SMTP address of the mailbox behind the group. */
  mailbox: string;
  /** Display only — never drives apply. */
  reason: string;
}

/** A current member the plan keeps rather than removes, and why: a Change without its action. */
export type KeptMember = Omit<Change, 'action'>;

/** A HelloID group that belongs to an in-scope mailbox and therefore is managed. */
export interface ManagedGroup {
  groupGuid: string;
  groupName: string;
  mailbox: string;
  /** userGUIDs observed at plan time, sorted. */
  observedMembers: string[];
  /** userGUIDs after the changes, sorted. */
  plannedMembers: string[];
  /** Why removals from this group are held (empty: none held). */
  holdReasons: string[];
}

export interface LimitViolation {
  rule: 'maxRemovals' | 'maxRemovalPercent' | 'allowEmptyingGroups';
  message: string;
  groupGuid?: string;
}

export interface DiffResult {
  /** Every managed group, sorted by name (affected or not). */
  groups: ManagedGroup[];
  /** Sorted by group name, then user name, then action. */
  changes: Change[];
  kept: KeptMember[];
  /** Desired-state warnings plus HelloID-side warnings, sorted. */
  warnings: Warning[];
  limitViolations: LimitViolation[];
}
