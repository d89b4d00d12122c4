/**
 * HelloID API client: users, groups, group members, single users (deleted members),
 * and the two idempotent writes apply needs (implements HelloIdWriteApi). Maps wire
 * objects to core types, tolerating the shapes seen in the wild (docs/wire-formats.md,
 * HelloID section): userGUID/userGuid and groupGuid/groupGUID casings, list replies as
 * a plain array, `{pageData: […]}` or `{data: […]}`, and error text in `message`,
 * `resultMsg`, `textResult` or `error` — which is what errors show, never the raw body.
 *
 * Lists are paged with skip/take until an EMPTY page: the server may cap `take`, so
 * a short page does not mean the end (the Tools4ever scripts' rule would stop early).
 */
import type { HelloIdGroup, HelloIdUser } from '../core/types.js';
import { OwnersyncError } from '../errors.js';
import { HttpError, safeUrl, type HttpClient, type HttpResponse, type RequestOptions } from '../http/index.js';
import { registerSecret } from '../redact.js';
import type { AddOutcome, HelloIdWriteApi, LiveGroup, RemoveOutcome, WriteOptions } from './types.js';
import { runPool } from '../pool.js';
import { isObject, prop, str, type WireObject } from '../wire-object.js';

export interface HelloIdClientOptions {
  /** e.g. https://contoso.helloid.com (no trailing slash). */
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Client for the HelloID API (service 'helloid'). */
  http: HttpClient;
  /** `take` per page (the server may return fewer). @default 1000 */
  pageSize?: number;
}

/** Reads started ahead of the concurrency limit: enough to keep it busy as it grows. */
const READ_AHEAD = 64;

/** Where HelloID puts error text; all four are seen in the Tools4everBV HelloID-Conn-* scripts. */
const ERROR_FIELDS = ['message', 'resultMsg', 'textResult', 'error'] as const;

/**
 * The error text of a reply body: the first of ERROR_FIELDS that holds text (`error`
 * may also be an object with a `message`); '' for JSON without any, so a user never
 * sees a raw JSON body. Text that is not JSON is returned as it is.
 */
function messageOf(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim();
  }
  if (typeof body === 'string') return body;
  if (!isObject(body)) return '';
  for (const field of ERROR_FIELDS) {
    const v = prop(body, field);
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (isObject(v)) {
      const inner = str(v, 'message');
      if (inner !== undefined) return inner;
    }
  }
  return '';
}

/**
 * Whether a 404 says the object does not exist ("User not found", "Group not found", or
 * no text at all) — unlike a 404 from a wrong URL ("No HTTP resource was found …"),
 * which is an error, not an answer.
 */
function isNotFoundReply(res: HttpResponse): boolean {
  const why = messageOf(res.text);
  return why === '' || /not\s*found/i.test(why);
}

/** The items of a list reply: a plain array, `{"pageData": […]}` or `{"data": […]}`; undefined otherwise. */
function listOf(body: unknown): unknown[] | undefined {
  if (Array.isArray(body)) return body;
  if (!isObject(body)) return undefined;
  for (const wrapper of ['pageData', 'data']) {
    const items = prop(body, wrapper);
    if (Array.isArray(items)) return items;
  }
  return undefined;
}

/**
 * The object of a single-object reply: the object itself, the first of a one-element
 * list, or the object inside a `{"data": {…}}` wrapper (the list wrapper applied to
 * one object [inferred]). `idField` tells an object from its wrapper.
 */
function objectOf(body: unknown, idField: string): WireObject | undefined {
  const first = listOf(body)?.[0] ?? body;
  if (!isObject(first)) return undefined;
  const inner = prop(first, 'data');
  return str(first, idField) === undefined && isObject(inner) ? inner : first;
}

function toHelloIdUser(o: WireObject): HelloIdUser | undefined {
  const userGuid = str(o, 'userGUID', 'userGuid', 'userId');
  const userName = str(o, 'userName', 'username');
  if (userGuid === undefined || userName === undefined) return undefined;
  const user: HelloIdUser = { userGuid, userName };
  const display = str(o, 'displayName') ?? [str(o, 'firstName'), str(o, 'lastName')].filter(Boolean).join(' ');
  if (display) user.displayName = display;
  return user;
}

function toHelloIdGroup(o: WireObject): HelloIdGroup | undefined {
  const groupGuid = str(o, 'groupGuid', 'groupGUID', 'groupId');
  const name = str(o, 'name', 'groupName', 'displayName');
  if (groupGuid === undefined || name === undefined) return undefined;
  const source = prop(o, 'source');
  return { groupGuid, name, source: typeof source === 'string' ? source : null, members: null };
}

export class HelloIdClient implements HelloIdWriteApi {
  readonly baseUrl: string;
  /** Every call goes through the HTTP client's limiter, which holds no slot while a retry waits. */
  readonly boundsInFlight = true;
  private readonly http: HttpClient;
  private readonly authorization: string;
  private readonly pageSize: number;

  constructor(options: HelloIdClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.http = options.http;
    this.pageSize = options.pageSize ?? 1000;
    registerSecret(options.apiKey);
    registerSecret(options.apiSecret);
    const basic = Buffer.from(`${options.apiKey}:${options.apiSecret}`).toString('base64');
    registerSecret(basic);
    this.authorization = `Basic ${basic}`;
  }

  /** Every HelloID user, all pages. Throws on failure: never a partial list. */
  async listUsers(): Promise<HelloIdUser[]> {
    return this.listAll('/api/v1/users', 'userGUID', toHelloIdUser);
  }

  /**
   * Every HelloID group (members not read: null), all pages. Throws on failure.
   * `onPage` sees each page's groups as it arrives (so member reads can start before
   * the listing ends); the returned list is still the only complete answer.
   */
  async listGroups(onPage?: (groups: HelloIdGroup[]) => void): Promise<HelloIdGroup[]> {
    return this.listAll('/api/v1/groups', 'groupGuid', toHelloIdGroup, onPage);
  }

  /** Current member userGUIDs of a group (fresh read); a group HelloID does not know is an error here. */
  async getGroupMembers(groupGuid: string): Promise<string[]> {
    const group = await this.readGroup(groupGuid);
    if (!('members' in group)) throw this.refused('GET', group.url, group.notFound, 'group members');
    return group.members;
  }

  /**
   * One group as it is now: its name and source (what a reviewer saw, for apply to
   * check against) and its member userGUIDs, in one GET /api/v1/groups/{guid}; undefined
   * when HelloID answers 404 "Group not found" (deleted since it was seen).
   */
  async getGroup(groupGuid: string): Promise<LiveGroup | undefined> {
    const group = await this.readGroup(groupGuid);
    return 'members' in group ? group : undefined;
  }

  private async readGroup(groupGuid: string): Promise<LiveGroup | { url: string; notFound: HttpResponse }> {
    const url = `${this.baseUrl}/api/v1/groups/${encodeURIComponent(groupGuid)}`;
    const res = await this.send(url, { label: 'group members', acceptStatuses: [404] });
    if (res.status === 404) {
      if (isNotFoundReply(res)) return { url, notFound: res };
      throw this.refused('GET', url, res, 'group members');
    }
    const group = objectOf(res.json<unknown>(), 'groupGuid');
    const header = isObject(group) ? toHelloIdGroup(group) : undefined;
    const users = isObject(group) ? prop(group, 'users') : undefined;
    if (!Array.isArray(users)) {
      throw new OwnersyncError(`GET ${safeUrl(url)} returned a group without a "users" list; its members are unknown`);
    }
    const out: string[] = [];
    for (const u of users) {
      if (typeof u === 'string') out.push(u);
      else if (isObject(u)) {
        const guid = str(u, 'userGUID', 'userGuid', 'userId');
        if (guid !== undefined) out.push(guid);
      }
    }
    return { groupGuid: header?.groupGuid ?? groupGuid, name: header?.name ?? '', source: header?.source ?? null, members: out };
  }

  /**
   * One user by GUID (GET /api/v1/users/{guid}), or undefined when HelloID answers 404
   * "User not found" (a deleted user: wire-formats.md). Any other failure throws:
   * "could not look up" is not "not found".
   */
  async getUser(userGuid: string): Promise<HelloIdUser | undefined> {
    const url = `${this.baseUrl}/api/v1/users/${encodeURIComponent(userGuid)}`;
    const res = await this.send(url, { label: 'user', acceptStatuses: [404] });
    if (res.status === 404) {
      if (isNotFoundReply(res)) return undefined;
      throw this.refused('GET', url, res, 'user');
    }
    const body = objectOf(res.json<unknown>(), 'userGUID');
    const user = body ? toHelloIdUser(body) : undefined;
    if (user === undefined) throw new OwnersyncError(`GET ${safeUrl(url)} returned no user with a userGUID and userName`);
    return user;
  }

  /**
   * Look up users one by one (for member GUIDs missing from the user list): a user,
   * null when HelloID says it does not exist (a deleted user), or the Error of a lookup
   * that failed for good (after the HTTP client's retries).
   */
  async lookupUsers(userGuids: readonly string[]): Promise<Map<string, HelloIdUser | null | Error>> {
    return this.readEach([...new Set(userGuids)], async (guid) => (await this.getUser(guid)) ?? null);
  }

  /** Members of these groups; an Error for each read that failed for good. */
  async readMembers(groupGuids: string[], onProgress?: (done: number, total: number) => void): Promise<Map<string, string[] | Error>> {
    return this.readEach(groupGuids, (guid) => this.getGroupMembers(guid), onProgress);
  }

  /**
   * One read per key, in parallel within the limiter, each failure kept as its Error
   * (one failed read must not lose the others). At most READ_AHEAD reads are started at
   * a time (the limiter decides how many are in flight): thousands of requests parked in
   * its queue would only hold memory for the whole run.
   */
  private async readEach<T>(keys: readonly string[], read: (key: string) => Promise<T>, onProgress?: (done: number, total: number) => void): Promise<Map<string, T | Error>> {
    const out = new Map<string, T | Error>();
    let done = 0;
    await runPool(keys, READ_AHEAD, async (key) => {
      try {
        out.set(key, await read(key));
      } catch (err) {
        out.set(key, err instanceof Error ? err : new Error(String(err)));
      }
      onProgress?.(++done, keys.length);
    });
    return out;
  }

  /** Add a member; an existing membership (409, or a 400 saying so) is 'already-member'. */
  async addMember(groupGuid: string, userGuid: string, options: WriteOptions = {}): Promise<AddOutcome> {
    const url = `${this.baseUrl}/api/v1/groups/${encodeURIComponent(groupGuid)}/users`;
    const res = await this.send(url, { method: 'POST', json: { userGUID: userGuid }, label: 'add member', acceptStatuses: [400, 409], ...(options.beforeSend ? { beforeFirstSend: options.beforeSend } : {}) });
    if (res.status === 409) return 'already-member';
    if (res.status === 400) {
      const why = messageOf(res.text);
      if (/already/i.test(why)) return 'already-member';
      throw this.refused('POST', url, res, 'add member');
    }
    return 'added';
  }

  /** Remove a member; a 404 for a non-member is 'not-a-member', but "Group not found" is an error. */
  async removeMember(groupGuid: string, userGuid: string, options: WriteOptions = {}): Promise<RemoveOutcome> {
    const url = `${this.baseUrl}/api/v1/groups/${encodeURIComponent(groupGuid)}/users/${encodeURIComponent(userGuid)}`;
    const res = await this.send(url, { method: 'DELETE', label: 'remove member', acceptStatuses: [404], ...(options.beforeSend ? { beforeFirstSend: options.beforeSend } : {}) });
    if (res.status === 404) {
      // "User not found" (or no text) is the documented answer for a non-member; a missing
      // group, or a 404 that is no answer (a wrong URL), must not be journaled as done.
      if (/group\s+not\s+found/i.test(messageOf(res.text)) || !isNotFoundReply(res)) throw this.refused('DELETE', url, res, 'remove member');
      return 'not-a-member';
    }
    return 'removed';
  }

  /** One small authenticated read (first page of users, take 1), for `validate --online`. */
  async probe(): Promise<void> {
    const url = `${this.baseUrl}/api/v1/users?skip=0&take=1`;
    const res = await this.send(url, { label: 'list' });
    // A 2xx is not enough: a wrong base URL often serves an HTML page. The users API
    // answers a JSON list (plain or wrapped).
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = undefined;
    }
    if (listOf(body) === undefined) {
      throw new OwnersyncError(`GET ${safeUrl(url)} answered ${res.status} but not with a JSON list of users: is helloid.baseUrl the HelloID tenant URL (https://<tenant>.helloid.com)?`);
    }
  }

  // -------------------------------------------------------------------------------

  /**
   * skip/take until an empty page; skip advances by what was received. Pages are a
   * chain (one request at a time), so they go ahead of queued fan-out reads. Each
   * page is mapped as it arrives (`map` returning undefined drops an object), so the
   * wire objects of a long list are never all held at once.
   */
  private async listAll<T>(path: string, idField: string, map: (o: WireObject) => T | undefined, onPage?: (page: T[]) => void): Promise<T[]> {
    const all: T[] = [];
    const seen = new Set<string>();
    for (let skip = 0; ; ) {
      const url = `${this.baseUrl}${path}?skip=${skip}&take=${this.pageSize}`;
      const body = (await this.send(url, { label: 'list', priority: 'high' })).json<unknown>();
      const page = listOf(body);
      if (page === undefined) throw new OwnersyncError(`GET ${safeUrl(url)} returned neither a list nor {"pageData": […]} nor {"data": […]}`);
      if (page.length === 0) return all;
      // A server that ignores `skip` would send the first page forever.
      const fresh: T[] = [];
      let received = 0;
      for (const item of page) {
        if (!isObject(item)) continue;
        // prop() is case-insensitive, so userGUID also finds userGuid.
        const id = str(item, idField);
        if (id !== undefined) {
          const key = id.toLowerCase();
          if (seen.has(key)) continue;
          seen.add(key);
        }
        received++;
        const mapped = map(item);
        if (mapped === undefined) continue;
        fresh.push(mapped);
        all.push(mapped);
      }
      if (received === 0) throw new OwnersyncError(`GET ${safeUrl(url)} repeated an earlier page; HelloID seems to ignore "skip", so the list cannot be read completely`);
      onPage?.(fresh);
      skip += page.length;
    }
  }

  /**
   * A request with Basic auth; 401 becomes the one clear "API key rejected" error, and
   * any other refusal an HttpError that quotes HelloID's error text, not its body.
   */
  private async send(url: string, options: RequestOptions): Promise<HttpResponse> {
    const accept = options.acceptStatuses;
    let res: HttpResponse;
    try {
      res = await this.http.request(url, {
        ...options,
        headers: { ...options.headers, authorization: this.authorization, accept: 'application/json' },
        acceptStatuses: [401, ...(Array.isArray(accept) ? accept : [])],
      });
    } catch (err) {
      if (!(err instanceof HttpError) || err.status === undefined) throw err;
      throw new HttpError({
        service: err.service,
        method: err.method,
        url: err.url,
        ...(err.label !== undefined ? { label: err.label } : {}),
        attempts: err.attempts,
        status: err.status,
        responseBody: err.responseBody ?? '',
        reason: messageOf(err.responseBody ?? ''),
      });
    }
    if (res.status === 401) throw new OwnersyncError(`HelloID rejected the API key for ${safeUrl(this.baseUrl).replace(/\/$/, '')} (401)`);
    return res;
  }

  private refused(method: string, url: string, res: HttpResponse, label: string): HttpError {
    return new HttpError({ service: 'helloid', method, url: safeUrl(url), label, attempts: res.attempts, status: res.status, responseBody: res.text, reason: messageOf(res.text) });
  }
}
