/**
 * HelloID API client: users, groups, group members, and the two idempotent writes
 * apply needs (implements HelloIdWriteApi). Maps wire objects to core types,
 * tolerating the casings seen in the wild (userGUID/userGuid, groupGuid/groupGUID)
 * and both plain-array and `{pageData: […]}` list replies.
 *
 * Lists are paged with skip/take until an EMPTY page: the server may cap `take`, so
 * a short page does not mean the end (the Tools4ever scripts' rule would stop early).
 */
import type { HelloIdGroup, HelloIdUser } from '../core/types.js';
import { OwnersyncError } from '../errors.js';
import { HttpError, safeUrl, type HttpClient, type HttpResponse, type RequestOptions } from '../http/index.js';
import { registerSecret } from '../redact.js';
import type { AddOutcome, HelloIdWriteApi, RemoveOutcome } from './types.js';
import { runPool } from '../pool.js';

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

type Wire = Record<string, unknown>;

/** Reads started ahead of the concurrency limit: enough to keep it busy as it grows. */
const READ_AHEAD = 64;


function isObject(v: unknown): v is Wire {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A property by name, case-insensitively. */
function prop(obj: Wire, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

function str(obj: Wire, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = prop(obj, n);
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/** The error text HelloID put in a body: `message` or `resultMsg`. */
function messageOf(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (isObject(body)) return str(body, 'message', 'resultMsg', 'error') ?? '';
    if (typeof body === 'string') return body;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 200);
}

export function toHelloIdUser(o: Wire): HelloIdUser | undefined {
  const userGuid = str(o, 'userGUID', 'userGuid', 'userId');
  const userName = str(o, 'userName', 'username');
  if (userGuid === undefined || userName === undefined) return undefined;
  const user: HelloIdUser = { userGuid, userName };
  const display = str(o, 'displayName') ?? [str(o, 'firstName'), str(o, 'lastName')].filter(Boolean).join(' ');
  if (display) user.displayName = display;
  return user;
}

export function toHelloIdGroup(o: Wire): HelloIdGroup | undefined {
  const groupGuid = str(o, 'groupGuid', 'groupGUID', 'groupId');
  const name = str(o, 'name', 'groupName', 'displayName');
  if (groupGuid === undefined || name === undefined) return undefined;
  const source = prop(o, 'source');
  return { groupGuid, name, source: typeof source === 'string' ? source : null, members: null };
}

export class HelloIdClient implements HelloIdWriteApi {
  readonly baseUrl: string;
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

  /** Current member userGUIDs of a group (fresh read). */
  async getGroupMembers(groupGuid: string): Promise<string[]> {
    return (await this.getGroup(groupGuid)).members;
  }

  /**
   * One group as it is now: its name and source (what a reviewer saw, for apply to
   * check against) and its member userGUIDs. One GET /api/v1/groups/{guid}.
   */
  async getGroup(groupGuid: string): Promise<{ groupGuid: string; name: string; source: string | null; members: string[] }> {
    const url = `${this.baseUrl}/api/v1/groups/${encodeURIComponent(groupGuid)}`;
    const body = (await this.send(url, { label: 'group members' })).json<unknown>();
    const group = Array.isArray(body) ? body[0] : body;
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
   * (a deleted user). Any other failure throws: "could not look up" is not "not found".
   */
  async getUser(userGuid: string): Promise<HelloIdUser | undefined> {
    const url = `${this.baseUrl}/api/v1/users/${encodeURIComponent(userGuid)}`;
    const res = await this.send(url, { label: 'user', acceptStatuses: [404] });
    if (res.status === 404) return undefined;
    const body = res.json<unknown>();
    const user = isObject(body) ? toHelloIdUser(body) : undefined;
    if (user === undefined) throw new OwnersyncError(`GET ${safeUrl(url)} returned no user with a userGUID and userName`);
    return user;
  }

  /**
   * Members of these groups, in parallel within the limiter; an Error for each read
   * that failed for good. At most READ_AHEAD reads are started at a time (the limiter
   * decides how many of them are in flight): thousands of requests parked in its queue
   * would only hold memory for the whole run.
   */
  async readMembers(groupGuids: string[], onProgress?: (done: number, total: number) => void): Promise<Map<string, string[] | Error>> {
    const out = new Map<string, string[] | Error>();
    let done = 0;
    await runPool(groupGuids, READ_AHEAD, async (guid) => {
      try {
        out.set(guid, await this.getGroupMembers(guid));
      } catch (err) {
        out.set(guid, err instanceof Error ? err : new Error(String(err)));
      }
      onProgress?.(++done, groupGuids.length);
    });
    return out;
  }

  /** Add a member; an existing membership (409, or a 400 saying so) is 'already-member'. */
  async addMember(groupGuid: string, userGuid: string): Promise<AddOutcome> {
    const url = `${this.baseUrl}/api/v1/groups/${encodeURIComponent(groupGuid)}/users`;
    const res = await this.send(url, { method: 'POST', json: { userGUID: userGuid }, label: 'add member', acceptStatuses: [400, 409] });
    if (res.status === 409) return 'already-member';
    if (res.status === 400) {
      const why = messageOf(res.text);
      if (/already/i.test(why)) return 'already-member';
      throw this.refused('POST', url, res, 'add member');
    }
    return 'added';
  }

  /** Remove a member; a 404 for a non-member is 'not-a-member', but "Group not found" is an error. */
  async removeMember(groupGuid: string, userGuid: string): Promise<RemoveOutcome> {
    const url = `${this.baseUrl}/api/v1/groups/${encodeURIComponent(groupGuid)}/users/${encodeURIComponent(userGuid)}`;
    const res = await this.send(url, { method: 'DELETE', label: 'remove member', acceptStatuses: [404] });
    if (res.status === 404) {
      if (/group\s+not\s+found/i.test(messageOf(res.text))) throw this.refused('DELETE', url, res, 'remove member');
      return 'not-a-member';
    }
    return 'removed';
  }

  /** One small authenticated read (first page of users, take 1), for `validate --online`. */
  async probe(): Promise<void> {
    const url = `${this.baseUrl}/api/v1/users?skip=0&take=1`;
    const res = await this.send(url, { label: 'list' });
    // A 2xx is not enough: a wrong base URL often serves an HTML page. The users API
    // answers a JSON list (or a pageData wrapper).
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = undefined;
    }
    const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.pageData) ? body.pageData : undefined;
    if (list === undefined) {
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
  private async listAll<T>(path: string, idField: string, map: (o: Wire) => T | undefined, onPage?: (page: T[]) => void): Promise<T[]> {
    const all: T[] = [];
    const seen = new Set<string>();
    for (let skip = 0; ; ) {
      const url = `${this.baseUrl}${path}?skip=${skip}&take=${this.pageSize}`;
      const body = (await this.send(url, { label: 'list', priority: 'high' })).json<unknown>();
      const page = Array.isArray(body) ? body : isObject(body) && Array.isArray(prop(body, 'pageData')) ? (prop(body, 'pageData') as unknown[]) : undefined;
      if (page === undefined) throw new OwnersyncError(`GET ${safeUrl(url)} returned neither a list nor {"pageData": […]}`);
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

  /** A request with Basic auth; 401 becomes the one clear "API key rejected" error. */
  private async send(url: string, options: RequestOptions): Promise<HttpResponse> {
    const accept = options.acceptStatuses;
    const res = await this.http.request(url, {
      ...options,
      headers: { ...options.headers, authorization: this.authorization, accept: 'application/json' },
      acceptStatuses: [401, ...(Array.isArray(accept) ? accept : [])],
    });
    if (res.status === 401) throw new OwnersyncError(`HelloID rejected the API key for ${safeUrl(this.baseUrl).replace(/\/$/, '')} (401)`);
    return res;
  }

  private refused(method: string, url: string, res: HttpResponse, label: string): HttpError {
    return new HttpError({ service: 'helloid', method, url: safeUrl(url), label, attempts: res.attempts, status: res.status, responseBody: res.text });
  }
}
