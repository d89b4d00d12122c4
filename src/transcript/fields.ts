/**
 * Which JSON fields of a recorded body are personal, per service, and the walk that
 * pseudonymises a parsed body. Personal fields (an allow-list of names, compared
 * case-insensitively) go through `Pseudonymiser.value` (by shape: GUID, address, SID,
 * `DOMAIN\name` or a name, word by word). Every other string is free text: addresses,
 * GUIDs, SIDs, URLs and single-quoted names in it are replaced (the catch-all), the
 * rest is kept, because the engine needs it verbatim (RecipientTypeDetails,
 * AccessRights, exception types, group sources …). Field names are never personal.
 *
 * A `$batch` sub-request's `headers` carry the bearer token: only the allow-listed
 * request headers of a sub-request are kept, as for the request itself.
 */
import type { Pseudonymiser } from './pseudonym.js';

/** Exchange admin API objects (mailboxes, users, recipients, permission rows, group members) and cmdlet parameters. */
const EXCHANGE_PERSONAL = [
  'DisplayName', 'Name', 'Alias', 'Identity', 'UserPrincipalName', 'PrimarySmtpAddress', 'WindowsEmailAddress',
  'EmailAddresses', 'User', 'Trustee', 'Guid', 'ExchangeGuid', 'ExternalDirectoryObjectId', 'Members',
  'Member', 'DistinguishedName', 'SamAccountName', 'SecurityIdentifier', 'Sid', 'FirstName', 'LastName',
  'ManagedBy', 'Manager', 'LegacyExchangeDN', 'OrganizationalUnit', 'Organization', 'OrganizationId',
  'ImmutableId', 'WindowsLiveID', 'MicrosoftOnlineServicesID', 'ForwardingAddress', 'ForwardingSmtpAddress',
  'GrantSendOnBehalfTo', 'Title', 'Department', 'Office', 'Phone', 'MobilePhone',
];

/** HelloID users and groups. */
const HELLOID_PERSONAL = [
  'userGUID', 'userGuid', 'userId', 'userName', 'username', 'firstName', 'lastName', 'displayName', 'contactEmail',
  'email', 'emailAddress', 'externalId', 'immutableId', 'groupGuid', 'groupGUID', 'groupId', 'name', 'groupName',
  'users', 'managedByUserGuid', 'managedByGroupGuid', 'userAttributes', 'phoneNumber', 'mobilePhone', 'title', 'department',
];

/** Request headers worth keeping; every other request header (Authorization above all) is dropped. */
export const REQUEST_HEADERS = new Set(['content-type', 'accept', 'prefer', 'x-cmdletname', 'x-responseformat']);

/** Response headers worth keeping: type, throttling and concurrency signals. */
export function isKeptResponseHeader(name: string): boolean {
  const n = name.toLowerCase();
  return n === 'content-type' || n === 'retry-after' || n === 'x-concurrencycount' || /^(x-)?(rate-?limit|ratelimit|concurrency)/.test(n) || n === 'x-ms-throttle-reason';
}

const PERSONAL = new Set([...EXCHANGE_PERSONAL, ...HELLOID_PERSONAL].map((f) => f.toLowerCase()));

/** Whether a JSON field of either service holds personal data. */
export function isPersonalField(name: string): boolean {
  return PERSONAL.has(name.toLowerCase());
}

/** Only the allow-listed headers, their values treated as free text. */
export function keepHeaders(headers: Record<string, unknown>, keep: (name: string) => boolean, p: Pseudonymiser | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!keep(k) || typeof v !== 'string') continue;
    out[k.toLowerCase()] = p ? p.text(v) : v;
  }
  return out;
}

/** A parsed body with personal fields pseudonymised and free text scrubbed (a new value; the input is not changed). */
export function pseudonymiseJson(value: unknown, p: Pseudonymiser, personal = false): unknown {
  if (typeof value === 'string') return personal ? p.value(value) : p.text(value);
  if (Array.isArray(value)) return value.map((v) => pseudonymiseJson(v, p, personal));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k.toLowerCase() === 'headers' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out[k] = keepHeaders(v as Record<string, unknown>, (n) => REQUEST_HEADERS.has(n.toLowerCase()), p);
      continue;
    }
    out[k] = pseudonymiseJson(v, p, personal || isPersonalField(k));
  }
  return out;
}

/** A raw recording keeps bodies, but never credentials: a `$batch` sub-request's headers are still cut to the allow-list. */
export function stripSubHeaders(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSubHeaders);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k.toLowerCase() === 'headers' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out[k] = keepHeaders(v as Record<string, unknown>, (n) => REQUEST_HEADERS.has(n.toLowerCase()), undefined);
    } else out[k] = stripSubHeaders(v);
  }
  return out;
}
