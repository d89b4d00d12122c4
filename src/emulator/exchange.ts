/**
 * The Exchange Online admin API (the transport ExchangeOnlineManagement v3 uses):
 * POST /adminapi/beta/{tenant}/InvokeCommand with a CmdletInput envelope, the cmdlets
 * ownersync needs, @odata.nextLink paging that honours `Prefer: odata.maxpagesize`
 * under a server cap, ResultSize (default 1000), $batch of up to 10 sub-requests,
 * bearer checks and the error bodies of docs/wire-formats.md.
 *
 * By default it answers the way the live service does, awkward parts included: an empty
 * result has no `value`; every cmdlet error, "not found" too, is a 400 with the
 * "Invalid Operation" envelope; a reply cut by ResultSize carries a warning and a page
 * link that cannot be followed; a 403 body is a run of NUL bytes; a $batch without
 * `Prefer: odata.continue-on-error` stops at the first failed sub-request (424 for the rest).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { compileOpath, OpathError, type RecipientPredicate } from './opath.js';
import type { PermissionRow, Recipient } from './model.js';
import type { Ctx, Env, Reply } from './http-util.js';
import { isObject, safeJson, segments } from './http-util.js';
import { tenantMatches, type AccessClaims } from './entra.js';
import type { Faults } from './types.js';

const JSON_CT = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
const DC = 'AM0PR01A001DC01.EURPR01A001.PROD.OUTLOOK.COM';
export const PAGINATION_ERROR = 'Expired or Invalid pagination request. Default Expiry time is 00:30:00';
const MAX_BATCH = 10;

// ---------------------------------------------------------------- errors

/**
 * The documented cmdlet error envelope (live captures in graph2otel
 * internal/exoclient/errors.go): whatever went wrong, `error.message` is "Invalid
 * Operation" and the exception is in `details[0].message` ("|Type|text") and
 * `innererror.internalexception`.
 */
export function cmdletError(type: string, message: string, status = 400): Reply {
  return {
    status,
    headers: { 'Content-Type': JSON_CT },
    json: {
      error: {
        code: 'BadRequest',
        message: 'Invalid Operation',
        details: [{ code: 'Client', message: `|${type}|${message}` }],
        innererror: { internalexception: { message, type } },
      },
    },
  };
}

export const NOT_FOUND_TYPE = 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException';

function notFound(identity: string): Reply {
  return cmdletError(NOT_FOUND_TYPE, `The operation couldn't be performed because object '${identity}' couldn't be found on '${DC}'.`);
}

function badParam(message: string): Reply {
  return cmdletError('System.Management.Automation.ParameterBindingException', message);
}

/**
 * 403 as the service sends it to an app with Exchange.ManageAsApp but no Entra directory
 * role: the body is a run of NUL bytes, not JSON (docs/wire-formats.md, "Authorization").
 */
export function forbidden(): Reply {
  return { status: 403, text: '\u0000'.repeat(64), headers: { 'Content-Type': 'application/json' } };
}

/**
 * Exception types of the transient 400s live clients retry (jflieben/M365Permissions
 * ExchangeRestClient.cs), with the service's wording [inferred].
 */
export const TRANSIENT_EXCEPTIONS: ReadonlyArray<readonly [type: string, message: string]> = [
  ['Microsoft.Exchange.Data.Storage.ServerBusyException', 'The server is busy. Try again later.'],
  ['Microsoft.Exchange.Data.Directory.TransientException', 'A transient error occurred. Please try again.'],
  ['Microsoft.Exchange.Data.Storage.BackendCommunicationException', 'An error occurred while communicating with the backend server.'],
  ['Microsoft.Exchange.Configuration.Tasks.CmdletProxyNotAvailableFailure', 'The cmdlet could not be proxied to the target server; it is not available.'],
];

/** A transient 400: the named exception type (full or short, e.g. "ServerBusyException"), or the first one. */
export function transientError(type?: string): Reply {
  const known = type ? TRANSIENT_EXCEPTIONS.find(([t]) => t === type || t.endsWith(`.${type}`)) : TRANSIENT_EXCEPTIONS[0];
  return known ? cmdletError(known[0], known[1]) : cmdletError(type as string, 'The operation failed (injected fault).');
}

function paginationError(): Reply {
  return {
    status: 400,
    headers: { 'Content-Type': JSON_CT },
    json: {
      error: {
        code: 'BadRequest',
        message: PAGINATION_ERROR,
        details: [{ code: 'Client', message: `Ex4A6B1C|Microsoft.Exchange.Admin.OData.Core.InvalidPaginationException|${PAGINATION_ERROR}` }],
      },
    },
  };
}

function requestError(message: string): Reply {
  return { status: 400, headers: { 'Content-Type': JSON_CT }, json: { error: { code: 'BadRequest', message, details: [] } } };
}

/**
 * Injected faults in the Exchange envelope. `exception` (a rule's) makes it the cmdlet
 * error of that exception type (a 400 unless the rule says otherwise); a 403 is the
 * NUL-byte body of the missing directory role.
 */
export function exchangeFaultReply(status: number, faults: Faults, exception?: string): Reply {
  if (exception !== undefined) {
    const r = transientError(exception);
    return { ...r, status };
  }
  if (status === 403) return forbidden();
  const headers: Record<string, string> = { 'Content-Type': JSON_CT };
  if (status === 429 || status === 503) headers['Retry-After'] = String(faults.retryAfterSeconds);
  const code = status === 429 ? 'TooManyRequests' : status === 503 ? 'ServiceUnavailable' : status === 504 ? 'GatewayTimeout' : status >= 500 ? 'InternalServerError' : 'BadRequest';
  const message =
    status === 429
      ? 'The request was throttled. Too many concurrent requests; retry after the interval in the Retry-After header.'
      : status >= 500
        ? 'The service is temporarily unable to process the request (injected fault).'
        : 'The request failed (injected fault).';
  return { status, headers, json: { error: { code, message, details: [] } } };
}

/** 401 as Exchange sends it: empty body, the reason in WWW-Authenticate. */
export function unauthorized(ctx: Ctx, reason: string): Reply {
  return {
    status: 401,
    headers: {
      'WWW-Authenticate': `Bearer client_id="${EXCHANGE_APP_ID}", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="${ctx.baseUrl}/common/oauth2/authorize", error="invalid_token", error_description="${reason}"`,
      'x-ms-diagnostics': `2000001;reason="${reason}";error_category="invalid_token"`,
    },
  };
}

// ---------------------------------------------------------------- paging

interface PageEntry {
  offset: number;
  createdAt: number;
  fingerprint: string;
}

/** Outstanding $skiptoken values. Reusable until they expire, so a client may retry a page. */
export class PageStore {
  private readonly entries = new Map<string, PageEntry>();
  private created = 0;

  constructor(private readonly ttlSeconds: () => number) {}

  create(offset: number, fingerprint: string): string {
    if (++this.created % 1000 === 0) this.sweep();
    const token = randomBytes(18).toString('base64url');
    this.entries.set(token, { offset, createdAt: Date.now(), fingerprint });
    return token;
  }

  get(token: string): PageEntry | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (Date.now() - e.createdAt > this.ttlSeconds() * 1000) {
      this.entries.delete(token);
      return undefined;
    }
    return e;
  }

  /** Invalidate every outstanding page link (the "expired page link" fault). */
  expireAll(): void {
    this.entries.clear();
  }

  private sweep(): void {
    const limit = Date.now() - this.ttlSeconds() * 1000;
    for (const [k, e] of this.entries) if (e.createdAt < limit) this.entries.delete(k);
  }
}

// ---------------------------------------------------------------- request parsing

export interface CmdletInput {
  name: string;
  params: Record<string, unknown>;
}

export interface CmdletRef {
  cmdlet: string;
  identity?: string;
}

export interface SubRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** Parsed when the sub-request is well-formed enough to name a cmdlet. */
  ref?: CmdletRef;
}

export type ExchangeRoute =
  | { kind: 'invoke'; route: string; tenant: string }
  | { kind: 'batch'; route: string; tenant: string }
  | { kind: 'other'; route: string };

export function matchExchange(path: string): ExchangeRoute {
  const seg = segments(path);
  if (seg && seg.length === 4 && seg[0] === 'adminapi' && seg[1] === 'beta') {
    if (seg[3]!.toLowerCase() === 'invokecommand') return { kind: 'invoke', route: '/adminapi/beta/{tenant}/InvokeCommand', tenant: seg[2]! };
    if (seg[3]!.toLowerCase() === '$batch') return { kind: 'batch', route: '/adminapi/beta/{tenant}/$batch', tenant: seg[2]! };
  }
  return { kind: 'other', route: '/adminapi/*' };
}

function parseInput(body: unknown): { ok: true; input: CmdletInput } | { ok: false; message: string } {
  if (!isObject(body)) return { ok: false, message: 'The request body must be a JSON object with a CmdletInput property.' };
  const ci = body.CmdletInput ?? body.cmdletInput;
  if (!isObject(ci)) return { ok: false, message: "The request body must contain 'CmdletInput'." };
  const name = ci.CmdletName ?? ci.cmdletName;
  if (typeof name !== 'string' || !name) return { ok: false, message: "'CmdletInput.CmdletName' must be a non-empty string." };
  const params = 'Parameters' in ci ? ci.Parameters : ci.parameters;
  if (!isObject(params)) return { ok: false, message: "'CmdletInput.Parameters' must be an object (send {} when there are none; null is not accepted)." };
  return { ok: true, input: { name, params } };
}

function refOf(input: CmdletInput): CmdletRef {
  const idKey = Object.keys(input.params).find((k) => k.toLowerCase() === 'identity');
  const identity = idKey !== undefined && typeof input.params[idKey] === 'string' ? (input.params[idKey] as string) : undefined;
  return { cmdlet: input.name, identity };
}

/** The cmdlet(s) a request names, for stats and fault rules (before it is executed). */
export function peekInvoke(body: Buffer): CmdletRef | undefined {
  const j = safeJson(body);
  if (!j.ok) return undefined;
  const p = parseInput(j.value);
  return p.ok ? refOf(p.input) : undefined;
}

export function parseBatch(body: Buffer): { ok: true; subs: SubRequest[] } | { ok: false; reply: Reply } {
  const j = safeJson(body);
  if (!j.ok || !isObject(j.value) || !Array.isArray(j.value.requests)) {
    return { ok: false, reply: requestError("The batch body must be a JSON object with a 'requests' array.") };
  }
  const reqs = j.value.requests as unknown[];
  if (reqs.length > MAX_BATCH) {
    return { ok: false, reply: requestError(`The number of requests in the batch (${reqs.length}) exceeds the limit of ${MAX_BATCH}.`) };
  }
  if (reqs.length === 0) return { ok: false, reply: requestError('The batch contains no requests.') };
  const subs: SubRequest[] = [];
  const ids = new Set<string>();
  for (const [i, r] of reqs.entries()) {
    if (!isObject(r)) return { ok: false, reply: requestError(`requests[${i}] must be an object.`) };
    const id = r.id === undefined || r.id === null ? '' : String(r.id);
    if (!id) return { ok: false, reply: requestError(`requests[${i}] has no id.`) };
    if (ids.has(id)) return { ok: false, reply: requestError(`requests[${i}]: duplicate id '${id}'.`) };
    ids.add(id);
    const headers: Record<string, string> = {};
    if (isObject(r.headers)) for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = String(v);
    let body: unknown = r.body;
    if (typeof body === 'string') {
      const b = safeJson(Buffer.from(body));
      body = b.ok ? b.value : body;
    }
    const p = parseInput(body);
    subs.push({
      id,
      method: typeof r.method === 'string' ? r.method.toUpperCase() : '',
      url: typeof r.url === 'string' ? r.url : '',
      headers,
      body,
      ref: p.ok ? refOf(p.input) : undefined,
    });
  }
  return { ok: true, subs };
}

// ---------------------------------------------------------------- auth

/** Bearer check for the admin API; undefined when the caller may proceed. */
export function checkBearer(ctx: Ctx, env: Env, tenantSeg: string): Reply | undefined {
  const r = env.tokens.check(ctx.header('authorization'), env.options.entra.acceptedResources);
  if (!r.ok) {
    const why: Record<typeof r.reason, string> = {
      missing: 'The request has no bearer token.',
      malformed: 'The bearer token is malformed.',
      signature: 'The token signature is invalid.',
      expired: 'The access token has expired.',
      audience: 'The audience claim value is invalid for this resource.',
    };
    return unauthorized(ctx, why[r.reason]);
  }
  return checkClaims(ctx, env, tenantSeg, r.claims);
}

function checkClaims(ctx: Ctx, env: Env, tenantSeg: string, c: AccessClaims): Reply | undefined {
  if (!tenantMatches(env.model, tenantSeg) || c.tid.toLowerCase() !== env.model.tenantId.toLowerCase()) {
    return unauthorized(ctx, 'The token was issued for another tenant.');
  }
  if (!c.roles.includes('Exchange.ManageAsApp')) return unauthorized(ctx, 'The token has no Exchange.ManageAsApp role.');
  // App role without a directory role: 403 with a body of NUL bytes, as the service does.
  if (c.wids.length === 0) return forbidden();
  return undefined;
}

// ---------------------------------------------------------------- cmdlets

const COMMON_PARAMS = ['erroraction', 'warningaction', 'informationaction'];

const RECIPIENT_TYPE_DETAILS = [
  'UserMailbox', 'SharedMailbox', 'RoomMailbox', 'EquipmentMailbox', 'LinkedMailbox', 'SchedulingMailbox', 'TeamMailbox',
  'GroupMailbox', 'DiscoveryMailbox', 'MailUser', 'GuestMailUser', 'MailContact', 'User', 'DisabledUser',
  'MailUniversalSecurityGroup', 'MailUniversalDistributionGroup', 'MailNonUniversalGroup', 'RoomList', 'DynamicDistributionGroup',
  'UniversalSecurityGroup', 'NonUniversalGroup', 'UniversalDistributionGroup',
];
const RTD_BY_LOWER = new Map(RECIPIENT_TYPE_DETAILS.map((r) => [r.toLowerCase(), r]));

interface Listing<T> {
  items: T[];
  render(item: T): Record<string, unknown>;
  /** OData type name for @odata.context. */
  type: string;
}

interface CmdletDef {
  name: string;
  params: string[];
  run(env: Env, p: Params): Listing<unknown> | Reply;
}

/** Case-insensitive access to Parameters. */
class Params {
  constructor(private readonly raw: Record<string, unknown>) {}
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  get(name: string): unknown {
    const lower = name.toLowerCase();
    for (const [k, v] of Object.entries(this.raw)) if (k.toLowerCase() === lower) return v;
    return undefined;
  }
  keys(): string[] {
    return Object.keys(this.raw);
  }
}

function isReply(x: unknown): x is Reply {
  return isObject(x) && typeof x.status === 'number' && !('items' in x);
}

function identityParam(p: Params, required: boolean): string | Reply | undefined {
  const v = p.get('Identity');
  if (v === undefined || v === null) {
    return required ? badParam('Cannot process command because of one or more missing mandatory parameters: Identity.') : undefined;
  }
  if (typeof v !== 'string' || !v.trim()) return badParam("Cannot bind parameter 'Identity'. The value must be a non-empty string.");
  return v;
}

function rtdParam(p: Params): Set<string> | Reply | undefined {
  const v = p.get('RecipientTypeDetails');
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : undefined;
  if (!list) return badParam("Cannot bind parameter 'RecipientTypeDetails'. The value must be a string or an array of strings.");
  const out = new Set<string>();
  for (const raw of list) {
    const name = RTD_BY_LOWER.get(String(raw).trim().toLowerCase());
    if (!name) {
      return badParam(
        `Cannot bind parameter 'RecipientTypeDetails'. Cannot convert value "${String(raw).trim()}" to type "Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails". Error: "Unable to match the identifier name ${String(raw).trim()} to a valid enumerator name. Specify one of the following enumerator names and try again: ${RECIPIENT_TYPE_DETAILS.join(', ')}"`,
      );
    }
    out.add(name);
  }
  return out;
}

function filterParam(p: Params): RecipientPredicate | Reply | undefined {
  const v = p.get('Filter');
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') return badParam("Cannot bind parameter 'Filter'. The value must be a string.");
  try {
    return compileOpath(v);
  } catch (e) {
    if (!(e instanceof OpathError)) throw e;
    return cmdletError(
      'Microsoft.Exchange.Management.Tasks.OPathFilterException',
      `Cannot bind parameter 'Filter' to the target. Exception setting "Filter": "Invalid filter syntax. For a description of the filter parameter syntax see the command help. "${v}": ${e.message}."`,
    );
  }
}

/** ResultSize: number (or numeric string) ≥ 1, or "Unlimited". */
function resultSizeParam(p: Params, dflt: number): number | Reply {
  const v = p.get('ResultSize');
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'string' && v.trim().toLowerCase() === 'unlimited') return Number.POSITIVE_INFINITY;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1) {
    return badParam(`Cannot bind parameter 'ResultSize'. Cannot convert value "${String(v)}" to type "Microsoft.Exchange.Data.Unlimited\`1[System.UInt32]". Error: "Input string was not in a correct format."`);
  }
  return n;
}

function renderMailbox(r: Recipient): Record<string, unknown> {
  return {
    DisplayName: r.displayName,
    Name: r.name,
    Alias: r.alias,
    Identity: r.name,
    UserPrincipalName: r.userPrincipalName ?? '',
    PrimarySmtpAddress: r.primarySmtpAddress,
    RecipientTypeDetails: r.recipientTypeDetails,
    ExternalDirectoryObjectId: r.externalDirectoryObjectId,
    Guid: r.guid,
  };
}

function renderUser(r: Recipient): Record<string, unknown> {
  return {
    UserPrincipalName: r.userPrincipalName ?? '',
    DisplayName: r.displayName,
    Name: r.name,
    Identity: r.name,
    RecipientTypeDetails: r.recipientTypeDetails,
    ExternalDirectoryObjectId: r.externalDirectoryObjectId,
    Guid: r.guid,
  };
}

function renderRecipient(r: Recipient): Record<string, unknown> {
  return {
    Name: r.name,
    Alias: r.alias,
    DisplayName: r.displayName,
    Identity: r.name,
    PrimarySmtpAddress: r.primarySmtpAddress,
    RecipientType: r.recipientType,
    RecipientTypeDetails: r.recipientTypeDetails,
    Guid: r.guid,
    ExternalDirectoryObjectId: r.externalDirectoryObjectId,
  };
}

function renderGroup(r: Recipient): Record<string, unknown> {
  return {
    Name: r.name,
    DisplayName: r.displayName,
    Identity: r.name,
    RecipientTypeDetails: r.recipientTypeDetails,
    GroupType: /SecurityGroup$/.test(r.recipientTypeDetails) ? 'Universal, SecurityEnabled' : 'Universal',
    WindowsEmailAddress: r.primarySmtpAddress,
    Members: r.members.map((m) => m.name),
    Guid: r.guid,
    ExternalDirectoryObjectId: r.externalDirectoryObjectId,
  };
}

function listRecipients(
  env: Env,
  p: Params,
  source: () => Recipient[],
  index: (identity: string) => Recipient | undefined,
  render: (r: Recipient) => Record<string, unknown>,
  type: string,
): Listing<unknown> | Reply {
  const identity = identityParam(p, false);
  if (isReply(identity)) return identity;
  const rtd = rtdParam(p);
  if (isReply(rtd)) return rtd;
  const filter = filterParam(p);
  if (isReply(filter)) return filter;
  let items: Recipient[];
  if (identity !== undefined) {
    const r = index(identity);
    if (!r) return notFound(identity);
    items = [r];
  } else {
    items = source();
  }
  if (rtd || filter) items = items.filter((r) => (!rtd || rtd.has(r.recipientTypeDetails)) && (!filter || filter(r)));
  return { items, render: render as (x: unknown) => Record<string, unknown>, type };
}

function permissionRenderer(env: Env, mailbox: Recipient): (row: PermissionRow) => Record<string, unknown> {
  const o = env.options.exchange;
  const bool = (b: boolean): boolean | string => (o.booleanStyle === 'string' ? (b ? 'True' : 'False') : b);
  const rights = (r: string[]): string[] | string => (o.accessRightsStyle === 'string' ? r.join(', ') : [...r]);
  return (row) => {
    const perm = { AccessRights: rights(row.accessRights), IsInherited: bool(row.isInherited), Deny: bool(row.deny), InheritanceType: row.inheritanceType };
    return o.permissionRowStyle === 'permissionList'
      ? { Identity: mailbox.name, User: row.user, PermissionList: [perm] }
      : { Identity: mailbox.name, User: row.user, ...perm };
  };
}

const CMDLETS: CmdletDef[] = [
  {
    name: 'Get-Mailbox',
    params: ['identity', 'recipienttypedetails', 'resultsize', 'filter'],
    run: (env, p) => listRecipients(env, p, () => env.model.exchange.mailboxes, (i) => env.model.exchange.mailboxIndex.get(i), renderMailbox, 'Mailbox'),
  },
  {
    name: 'Get-User',
    params: ['identity', 'recipienttypedetails', 'resultsize', 'filter'],
    run: (env, p) => listRecipients(env, p, () => env.model.exchange.users, (i) => env.model.exchange.userIndex.get(i), renderUser, 'User'),
  },
  {
    name: 'Get-Recipient',
    params: ['identity', 'recipienttypedetails', 'resultsize', 'filter'],
    // Mail-enabled objects only (Microsoft Learn, Get-Recipient): a security group that is
    // not mail-enabled is not found here, only by Get-Group.
    run: (env, p) => listRecipients(env, p, () => env.model.exchange.mailRecipients, (i) => env.model.exchange.recipientIndex.get(i), renderRecipient, 'Recipient'),
  },
  {
    name: 'Get-Group',
    params: ['identity', 'recipienttypedetails', 'resultsize', 'filter'],
    run: (env, p) => listRecipients(env, p, () => env.model.exchange.groups, (i) => env.model.exchange.groupIndex.get(i), renderGroup, 'Group'),
  },
  {
    name: 'Get-MailboxPermission',
    params: ['identity', 'user', 'resultsize'],
    run: (env, p) => {
      const identity = identityParam(p, true);
      if (isReply(identity) || identity === undefined) return identity ?? badParam('Identity is required.');
      const mb = env.model.exchange.mailboxIndex.get(identity);
      if (!mb) return notFound(identity);
      let rows = mb.permissions;
      const user = p.get('User');
      if (user !== undefined && user !== null) {
        if (typeof user !== 'string') return badParam("Cannot bind parameter 'User'. The value must be a string.");
        const u = user.toLowerCase();
        rows = rows.filter((r) => r.user.toLowerCase() === u);
      }
      return { items: rows, render: permissionRenderer(env, mb) as (x: unknown) => Record<string, unknown>, type: 'MailboxPermission' };
    },
  },
  {
    name: 'Get-DistributionGroupMember',
    params: ['identity', 'resultsize'],
    run: (env, p) => {
      const identity = identityParam(p, true);
      if (isReply(identity) || identity === undefined) return identity ?? badParam('Identity is required.');
      const g = env.model.exchange.groupIndex.get(identity);
      // Only mail-enabled (distribution) groups have distribution group members.
      if (!g || !g.mailEnabled) return notFound(identity);
      const withUpn = env.options.exchange.memberUpn;
      const render = (m: Recipient): Record<string, unknown> => {
        const o = renderRecipient(m);
        if (withUpn && m.userPrincipalName) o.UserPrincipalName = m.userPrincipalName;
        return o;
      };
      // Reduced recipients: a member that is no recipient (a group that is not mail-enabled) is not listed.
      return { items: g.members.filter((m) => m.mailEnabled), render: render as (x: unknown) => Record<string, unknown>, type: 'ReducedRecipient' };
    },
  },
];
const CMDLET_BY_LOWER = new Map(CMDLETS.map((c) => [c.name.toLowerCase(), c]));

function fingerprint(input: CmdletInput): string {
  const params = Object.keys(input.params)
    .map((k) => [k.toLowerCase(), input.params[k]] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha1').update(JSON.stringify([input.name.toLowerCase(), params])).digest('base64url');
}

function preferredPageSize(prefer: string | undefined): number | undefined {
  if (!prefer) return undefined;
  const m = /odata\.maxpagesize\s*=\s*"?(\d+)"?/i.exec(prefer);
  return m ? Number(m[1]) : undefined;
}

export interface InvokeArgs {
  tenantSeg: string;
  baseUrl: string;
  prefer?: string;
  body: unknown;
  skiptoken?: string | null;
  /** The `$select` query option: a comma-separated list of the properties to return. */
  select?: string | null;
}

/** Execute one InvokeCommand (top-level or inside $batch). Auth has been checked. */
export function invoke(env: Env, a: InvokeArgs): Reply {
  const parsed = parseInput(a.body);
  if (!parsed.ok) return requestError(parsed.message);
  const { input } = parsed;
  const def = CMDLET_BY_LOWER.get(input.name.toLowerCase());
  // A cmdlet outside the app's role (here: any cmdlet the emulator does not know) is a 403 [inferred: the same NUL body].
  if (!def) return forbidden();
  const p = new Params(input.params);
  for (const k of p.keys()) {
    const lower = k.toLowerCase();
    if (!def.params.includes(lower) && !COMMON_PARAMS.includes(lower)) {
      return badParam(`A parameter cannot be found that matches parameter name '${k}'.`);
    }
  }
  const resultSize = resultSizeParam(p, env.options.exchange.defaultResultSize);
  if (isReply(resultSize)) return resultSize;

  const fp = fingerprint(input);
  let offset = 0;
  if (a.skiptoken !== undefined && a.skiptoken !== null) {
    const entry = env.pages.get(a.skiptoken);
    if (!entry || entry.fingerprint !== fp) return paginationError();
    offset = entry.offset;
  }

  const listing = def.run(env, p);
  if (isReply(listing)) return listing;
  const cap = env.options.exchange.maxPageSize;
  const pageSize = Math.max(1, Math.min(preferredPageSize(a.prefer) ?? cap, cap));
  const unlimited = resultSize === Number.POSITIVE_INFINITY;
  // Live-measured (graph2otel): only an Unlimited listing pages. A limited one is a single
  // reply, cut at ResultSize (and the page size), with a warning and a page link that
  // cannot be followed ("Expired or Invalid pagination request").
  const total = unlimited ? listing.items.length : Math.min(listing.items.length, resultSize, pageSize);
  const end = unlimited ? Math.min(offset + pageSize, total) : total;
  const select = selectedProperties(a.select);
  const value = listing.items.slice(offset, end).map((x) => project(listing.render(x), select));

  const warnings: string[] = [];
  const cut = !unlimited && listing.items.length > total;
  if (cut) {
    warnings.push(
      p.has('ResultSize')
        ? 'There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.'
        : `By default, only the first ${resultSize} items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify "-ResultSize Unlimited".`,
    );
  }
  const tenantPath = `${a.baseUrl}/adminapi/beta/${encodeURIComponent(a.tenantSeg)}`;
  const json: Record<string, unknown> = {
    '@odata.context': `${tenantPath}/$metadata#Collection(Microsoft.Exchange.Admin.OData.Schema.${listing.type})`,
    '@adminapi.warnings': warnings,
  };
  // An empty result: `value` absent by default; null and [] are also seen live (graph2otel
  // internal/exoclient/exoclient.go, CIPP-API New-ExoRequest.ps1).
  const empty = env.options.exchange.emptyValue;
  if (value.length > 0 || empty === 'empty') json.value = value;
  else if (empty === 'null') json.value = null;
  // The link carries the `$select` of the request, as OData next links carry its query options.
  const selectQuery = select ? `$select=${[...select.values()].join(',')}&` : '';
  if (unlimited && end < total) json['@odata.nextLink'] = `${tenantPath}/InvokeCommand?${selectQuery}$skiptoken=${env.pages.create(end, fp)}`;
  // A token that was never issued: following it gets the pagination error.
  else if (cut) json['@odata.nextLink'] = `${tenantPath}/InvokeCommand?$skiptoken=${randomBytes(18).toString('base64url')}`;
  return { status: 200, headers: { 'Content-Type': JSON_CT, 'OData-Version': '4.0', 'request-id': randomUUID() }, json };
}

/**
 * `$select=A,B` → the properties to keep, by lower-cased name (undefined: all). The admin
 * API takes OData's `$select` on InvokeCommand: CIPP-API New-ExoRequest.ps1 sends
 * `InvokeCommand?$select=…` with Get-Mailbox (Invoke-ListMailboxes.ps1) and follows the
 * next links as given. Names are matched case-insensitively [inferred: CIPP writes
 * `PrimarySMTPAddress`]; a name no object has is left out, not an error [inferred].
 */
function selectedProperties(select: string | null | undefined): Map<string, string> | undefined {
  if (select === undefined || select === null || select.trim() === '') return undefined;
  return new Map(select.split(',').flatMap((n) => (n.trim() === '' ? [] : [[n.trim().toLowerCase(), n.trim()] as const])));
}

function project(o: Record<string, unknown>, select: Map<string, string> | undefined): Record<string, unknown> {
  if (!select) return o;
  return Object.fromEntries(Object.entries(o).filter(([k]) => select.has(k.toLowerCase())));
}

/** Run a $batch whose sub-requests were parsed by parseBatch. `subFault` injects per-sub faults. */
export function runBatch(
  env: Env,
  ctx: Ctx,
  tenantSeg: string,
  subs: SubRequest[],
  subFault: (ref: CmdletRef) => Reply | undefined,
): Reply {
  const responses: Record<string, unknown>[] = [];
  const batchUrl = `${ctx.baseUrl}${ctx.path}`;
  // Without `Prefer: odata.continue-on-error` the service may stop at the first failed
  // sub-request (docs/wire-formats.md, $batch); the rest then fail as dependencies.
  const continueOnError = /odata\.continue-on-error/i.test(ctx.header('prefer') ?? '');
  let stopped = false;
  for (const s of subs) {
    const t0 = Date.now();
    let reply: Reply;
    if (stopped) {
      reply = {
        status: 424,
        headers: { 'Content-Type': JSON_CT },
        json: { error: { code: 'FailedDependency', message: 'The request was not run because an earlier request in the batch failed.', details: [] } },
      };
    } else if (s.method !== 'POST') {
      reply = { status: 405, headers: { 'Content-Type': JSON_CT }, json: { error: { code: 'MethodNotAllowed', message: `Sub-request '${s.id}': only POST is supported.`, details: [] } } };
    } else {
      let url: URL | undefined;
      try {
        url = new URL(s.url, batchUrl);
      } catch {
        url = undefined;
      }
      const route = url ? matchExchange(url.pathname) : undefined;
      if (!url || !route || route.kind !== 'invoke') {
        reply = requestError(`Sub-request '${s.id}': url must be the InvokeCommand URL.`);
      } else if (route.tenant.toLowerCase() !== tenantSeg.toLowerCase() && !(tenantMatches(env.model, route.tenant) && tenantMatches(env.model, tenantSeg))) {
        reply = requestError(`Sub-request '${s.id}': url names another tenant.`);
      } else {
        reply =
          (s.ref && subFault(s.ref)) ||
          invoke(env, { tenantSeg: route.tenant, baseUrl: ctx.baseUrl, prefer: s.headers.prefer, body: s.body, skiptoken: url.searchParams.get('$skiptoken'), select: url.searchParams.get('$select') });
      }
    }
    if (reply.status >= 400 && !continueOnError) stopped = true;
    if (s.ref && reply.status !== 424) env.stats.recordCmdlet(s.ref.cmdlet, reply.status, Date.now() - t0);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.headers ?? {})) if (k === 'Content-Type' || k === 'Retry-After') headers[k] = v;
    const entry: Record<string, unknown> = { id: s.id, status: reply.status, headers };
    if (reply.json !== undefined) entry.body = reply.json;
    else if (reply.text !== undefined) entry.body = reply.text;
    responses.push(entry);
  }
  return { status: 200, headers: { 'Content-Type': JSON_CT, 'OData-Version': '4.0' }, json: { responses } };
}
