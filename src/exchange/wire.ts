/**
 * Exchange admin API objects → core types. The API is parsed tolerantly (property
 * names case-insensitively, rights as an array or a comma string, the `PermissionList`
 * wrapped form of the Get-EXO REST cmdlets) because different cmdlet paths and
 * module versions have been seen to differ; core never sees a wire shape.
 */
import type { ExchangeGroup, ExchangeUser, GroupMember, LooseBool, Mailbox, PermissionEntry } from '../core/types.js';
import { OwnersyncError } from '../errors.js';
import { redact } from '../redact.js';
import { isObject, prop, str, type WireObject } from '../wire-object.js';

function looseBool(v: unknown): LooseBool {
  if (typeof v === 'boolean' || typeof v === 'string' || v === null || v === undefined) return v;
  if (typeof v === 'number') return v !== 0;
  return String(v);
}

/**
 * One shared array per distinct set of rights: a tenant has millions of permission
 * rows but only a handful of rights combinations, and a fresh array per row was the
 * largest single holder of memory while reading (about 18 MB at 20,000 mailboxes).
 * Nothing modifies accessRights; they are frozen so nothing can.
 */
const sharedRights = new Map<string, readonly string[]>();

/** A row's AccessRights (an array or a comma string), or undefined when they are neither. */
function rights(v: unknown): string[] | undefined {
  const out: string[] = [];
  const add = (s: string): void => {
    for (const part of s.split(',')) {
      const t = part.trim();
      if (t !== '') out.push(t);
    }
  };
  if (typeof v === 'string') add(v);
  else if (Array.isArray(v) && v.every((item) => typeof item === 'string')) for (const item of v) add(item);
  else return undefined;
  const key = out.join(',');
  let shared = sharedRights.get(key);
  if (shared === undefined) {
    shared = Object.freeze(out);
    sharedRights.set(key, shared);
  }
  return shared as string[];
}

/**
 * A row's rights, or a throw when they cannot be read: a row whose rights are unknown may
 * be a FullAccess grant, so the mailbox's read fails (its holders are then unknown, and
 * its owner group's removals held) rather than the row being taken for "no rights".
 */
function rightsOf(row: WireObject, trustee: string): string[] {
  const v = prop(row, 'AccessRights');
  const r = rights(v);
  if (r === undefined) throw new OwnersyncError(`a Get-MailboxPermission row for '${trustee}' has AccessRights that are no list of rights (${JSON.stringify(v) ?? 'absent'})`);
  return r;
}

/** The trustee of a row: `User` is normally a string; an object is reduced to its best name. */
function trusteeOf(row: WireObject): string {
  const u = prop(row, 'User') ?? prop(row, 'Trustee');
  if (typeof u === 'string') return u;
  if (isObject(u)) return str(u, 'UserPrincipalName', 'Name', 'DisplayName', 'PrimarySmtpAddress', 'SecurityIdentifier') ?? JSON.stringify(u);
  return u === undefined || u === null ? '' : String(u);
}

/** Get-MailboxPermission rows → PermissionEntry[] (one row may carry several in PermissionList); throws when a row's rights cannot be read. */
export function toPermissionEntries(rows: unknown[]): PermissionEntry[] {
  const out: PermissionEntry[] = [];
  for (const row of rows) {
    if (!isObject(row)) continue;
    const trustee = trusteeOf(row);
    const list = prop(row, 'PermissionList');
    if (Array.isArray(list)) {
      for (const p of list) {
        if (!isObject(p)) continue;
        out.push({
          trustee: typeof prop(p, 'User') === 'string' ? (prop(p, 'User') as string) : trustee,
          accessRights: rightsOf(p, trustee),
          isInherited: looseBool(prop(p, 'IsInherited')),
          deny: looseBool(prop(p, 'Deny')),
        });
      }
      continue;
    }
    out.push({
      trustee,
      accessRights: rightsOf(row, trustee),
      isInherited: looseBool(prop(row, 'IsInherited')),
      deny: looseBool(prop(row, 'Deny')),
    });
  }
  return out;
}

/**
 * The properties toMailbox and toUser read, asked for with `$select` (CIPP-API
 * New-ExoRequest.ps1 sends `InvokeCommand?$select=…`): a live Get-User or Get-Mailbox
 * object carries well over a hundred properties, and tens of thousands of them per listing
 * are most of what `plan` would otherwise download and parse.
 */
export const MAILBOX_PROPERTIES: readonly string[] = ['Guid', 'ExchangeGuid', 'ExternalDirectoryObjectId', 'Identity', 'PrimarySmtpAddress', 'WindowsEmailAddress', 'UserPrincipalName', 'DisplayName', 'Name', 'Alias'];
export const USER_PROPERTIES: readonly string[] = ['UserPrincipalName', 'Name', 'DisplayName', 'ExternalDirectoryObjectId', 'Guid'];

/** A Get-Mailbox object → Mailbox (permissions not read yet: null, without an error). */
export function toMailbox(o: WireObject): Mailbox {
  const guid = str(o, 'Guid', 'ExchangeGuid', 'ExternalDirectoryObjectId', 'Identity') ?? '';
  const smtp = str(o, 'PrimarySmtpAddress', 'WindowsEmailAddress', 'UserPrincipalName') ?? '';
  const mailbox: Mailbox = {
    guid,
    displayName: str(o, 'DisplayName', 'Name') ?? smtp,
    primarySmtpAddress: smtp,
    permissions: null,
  };
  const alias = str(o, 'Alias');
  if (alias !== undefined) mailbox.alias = alias;
  return mailbox;
}

/** The Identity to pass to Get-MailboxPermission: the Guid, which is unambiguous. */
export function mailboxIdentity(m: Mailbox): string {
  return m.guid || m.primarySmtpAddress;
}

/** A Get-User object → ExchangeUser, or undefined when it has no UPN (cannot be matched). */
export function toUser(o: WireObject): ExchangeUser | undefined {
  const upn = str(o, 'UserPrincipalName');
  if (upn === undefined) return undefined;
  const user: ExchangeUser = { userPrincipalName: upn };
  // Get-Group lists a security group's members by Name; core maps them through it.
  const name = str(o, 'Name');
  if (name !== undefined) user.name = name;
  const dn = str(o, 'DisplayName');
  if (dn !== undefined) user.displayName = dn;
  const ext = str(o, 'ExternalDirectoryObjectId');
  if (ext !== undefined) user.externalDirectoryObjectId = ext;
  const guid = str(o, 'Guid');
  if (guid !== undefined) user.guid = guid;
  return user;
}

/** A reduced recipient object (Get-DistributionGroupMember) → GroupMember. */
export function toGroupMember(o: WireObject): GroupMember {
  const m: GroupMember = {};
  const fields: Array<[keyof GroupMember, string]> = [
    ['name', 'Name'],
    ['displayName', 'DisplayName'],
    ['primarySmtpAddress', 'PrimarySmtpAddress'],
    ['externalDirectoryObjectId', 'ExternalDirectoryObjectId'],
    ['guid', 'Guid'],
    ['userPrincipalName', 'UserPrincipalName'],
    ['recipientTypeDetails', 'RecipientTypeDetails'],
  ];
  for (const [key, wire] of fields) {
    const v = str(o, wire);
    if (v !== undefined) m[key] = v;
  }
  return m;
}

/** A Get-Recipient or Get-Group object → the group fields of ExchangeGroup (members filled in later). */
export function toGroupHeader(o: WireObject, fallbackName: string): Omit<ExchangeGroup, 'members'> {
  const g: Omit<ExchangeGroup, 'members'> = {
    name: str(o, 'Name') ?? fallbackName,
    recipientTypeDetails: str(o, 'RecipientTypeDetails') ?? 'Unknown',
  };
  const fields: Array<[keyof ExchangeGroup, string]> = [
    ['displayName', 'DisplayName'],
    ['primarySmtpAddress', 'PrimarySmtpAddress'],
    ['alias', 'Alias'],
    ['guid', 'Guid'],
    ['externalDirectoryObjectId', 'ExternalDirectoryObjectId'],
  ];
  for (const [key, wire] of fields) {
    const v = str(o, wire);
    if (v !== undefined) (g as Record<string, unknown>)[key] = v;
  }
  return g;
}

/**
 * Whether a group is mail-enabled, so Get-DistributionGroupMember can list it. A security
 * group that is not (RecipientTypeDetails UniversalSecurityGroup, …) is known only to
 * Get-Group, which names its members (michev.info, non-mail-enabled security groups).
 */
export function isMailEnabledGroupType(recipientTypeDetails: string | undefined): boolean {
  return recipientTypeDetails !== undefined && (/^mail/i.test(recipientTypeDetails) || /^roomlist$/i.test(recipientTypeDetails));
}

/** Whether a group is security-enabled (MailUniversalSecurityGroup, UniversalSecurityGroup, …): it can grant FullAccess. */
export function isSecurityGroupType(recipientTypeDetails: string | undefined): boolean {
  return recipientTypeDetails !== undefined && /securitygroup$/i.test(recipientTypeDetails);
}

/**
 * The `Members` of a Get-Group object, as names (objects reduced to their Name), or
 * undefined when there is no list or an entry has no name: the members are then unknown,
 * which must never be read as "none".
 */
export function groupMemberNames(o: WireObject): string[] | undefined {
  const v = prop(o, 'Members');
  const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : undefined;
  if (list === undefined) return undefined;
  const out: string[] = [];
  for (const m of list) {
    const name = typeof m === 'string' ? m.trim() : isObject(m) ? (str(m, 'Name', 'DisplayName') ?? '') : '';
    if (name === '') return undefined;
    out.push(name);
  }
  return out;
}

/** Longest service text quoted in a message or warning. */
const SERVICE_TEXT_MAX = 300;

/** The cmdlet exception inside an admin API error body: its text and .NET type. */
export interface ServiceException {
  message: string;
  type?: string;
}

/**
 * The exception of an error body (graph2otel internal/exoclient/errors.go): every
 * cmdlet failure reads `{"error":{"code":"BadRequest","message":"Invalid Operation",
 * "details":[{"code":"Client","message":"|<Type>|<text>"}],"innererror":
 * {"internalexception":{"message":"<text>","type":"<Type>"}}}}`. The real words are in
 * `innererror.internalexception`, else in `details[0].message` after its `|Type|`
 * prefix (the PowerShell form puts an `Ex…` id before it); `error.message` is only a
 * last resort, as it is nearly always "Invalid Operation". Undefined for a body that
 * is no JSON error (an empty 401, the NUL bytes of a 403).
 */
export function serviceException(body: unknown): ServiceException | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (!isObject(parsed)) return undefined;
  const error = prop(parsed, 'error');
  if (!isObject(error)) {
    const message = str(parsed, 'message', 'resultMsg');
    return message === undefined ? undefined : { message };
  }
  const inner = prop(error, 'innererror');
  const internal = isObject(inner) ? prop(inner, 'internalexception') : undefined;
  if (isObject(internal)) {
    const message = str(internal, 'message');
    if (message !== undefined) return withType(message, str(internal, 'type'));
  }
  const details = prop(error, 'details');
  if (Array.isArray(details)) {
    for (const d of details) {
      const text = isObject(d) ? str(d, 'message') : undefined;
      if (text === undefined) continue;
      // "|Type|text" or "Ex6F9304|Type|text"; the text itself may contain '|'.
      const m = /^[^|]*\|([^|]*)\|([\s\S]*)$/.exec(text);
      return m ? withType(m[2] as string, m[1]) : { message: text };
    }
  }
  const message = str(error, 'message');
  return message === undefined ? undefined : withType(message, str(error, 'code'));
}

function withType(message: string, type: string | undefined): ServiceException {
  const t = type?.trim();
  return t ? { message: message.trim(), type: t } : { message: message.trim() };
}

/**
 * The service's own words from an error body, for a message or warning: the exception
 * text and type, redacted and bounded (it ends up in plan.yaml and desired-state.yaml,
 * and a server or proxy may quote the request, bearer token included, back in its
 * error; redaction runs on the whole text before it is cut, so no secret prefix
 * survives). A body that is not JSON is quoted only as far as it is printable text:
 * the 403 of an app without a directory role is a run of NUL bytes.
 */
export function serviceErrorText(body: unknown): string | undefined {
  const ex = serviceException(body);
  let text: string | undefined;
  if (ex) text = ex.type ? `${ex.message} [${ex.type}]` : ex.message;
  else if (typeof body === 'string' && !looksLikeJson(body)) text = printable(body);
  if (text === undefined) return undefined;
  const clean = redact(text).replace(/\s+/g, ' ').trim();
  if (clean === '') return undefined;
  return clean.length > SERVICE_TEXT_MAX ? `${clean.slice(0, SERVICE_TEXT_MAX)}…` : clean;
}

/** Control characters (NUL bytes above all) become spaces. */
function printable(text: string): string {
  let out = '';
  for (const ch of text) out += ch < ' ' || ch === '\u007f' ? ' ' : ch;
  return out;
}

function looksLikeJson(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith('{') || t.startsWith('[');
}
