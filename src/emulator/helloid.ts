/**
 * The HelloID API subset ownersync uses: Basic-auth, paged user and group lists
 * (skip/take with a server-side cap), one user, one group with its member userGUIDs,
 * and the two equivalent forms each of adding and removing a member. Deleted users
 * are left out of the user list but stay in groups' member lists. Error text goes in
 * `message`, `resultMsg`, `textResult` or `error`, and lists are plain arrays or
 * wrapped in {"pageData":[…]} or {"data":[…]}: all are seen in the wild (Tools4everBV
 * HelloID-Conn-* scripts), so each is an option; the defaults are the documented ones.
 */
import type { HelloIdGroupRecord, HelloIdUserRecord } from './model.js';
import type { Ctx, Env, Reply } from './http-util.js';
import { getCi, isObject, safeJson, segments } from './http-util.js';
import type { Faults } from './types.js';

function error(env: Env, status: number, text: string, headers?: Record<string, string>): Reply {
  return { status, headers, json: { [env.options.helloid.errorField]: text } };
}

export function helloidFaultReply(env: Env, status: number, faults: Faults): Reply {
  const headers: Record<string, string> = {};
  if (status === 429 || status === 503) headers['Retry-After'] = String(faults.retryAfterSeconds);
  const text = status === 429 ? 'Too many requests.' : status >= 500 ? 'An error has occurred (injected fault).' : 'The request failed (injected fault).';
  return error(env, status, text, headers);
}

function renderUser(u: HelloIdUserRecord): Record<string, unknown> {
  return {
    userGUID: u.userGUID,
    userName: u.userName,
    firstName: u.firstName,
    lastName: u.lastName,
    contactEmail: u.contactEmail,
    isEnabled: u.isEnabled,
    source: u.source,
  };
}

function renderGroup(g: HelloIdGroupRecord): Record<string, unknown> {
  return {
    groupGuid: g.groupGuid,
    name: g.name,
    isEnabled: g.isEnabled,
    isDefault: g.isDefault,
    source: g.source,
    managedByUserGuid: g.managedByUserGuid,
  };
}

/** Basic auth against the fixture's API keys; undefined when accepted. */
export function checkBasic(ctx: Ctx, env: Env): Reply | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(ctx.header('authorization') ?? '');
  const deny = (): Reply => error(env, 401, 'Authorization has been denied for this request.', { 'WWW-Authenticate': 'Basic realm="HelloID"' });
  if (!m) return deny();
  const dec = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = dec.indexOf(':');
  if (i < 0) return deny();
  const key = dec.slice(0, i);
  const secret = dec.slice(i + 1);
  const ok = env.model.helloid.apiKeys.some((k) => k.enabled && k.key === key && k.secret === secret);
  return ok ? undefined : deny();
}

function paging(ctx: Ctx, env: Env): { skip: number; take: number } | Reply {
  const o = env.options.helloid;
  const parse = (name: string, dflt: number): number | undefined => {
    const v = ctx.url.searchParams.get(name);
    if (v === null || v === '') return dflt;
    return /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const skip = parse('skip', 0);
  const take = parse('take', o.defaultTake);
  if (skip === undefined || take === undefined) return error(env, 400, "The query parameters 'skip' and 'take' must be non-negative integers.");
  return { skip, take: Math.min(take, o.maxTake) };
}

function list(env: Env, items: Record<string, unknown>[]): Reply {
  const wrapper = env.options.helloid.listWrapper;
  return { status: 200, json: wrapper === 'plain' ? items : { [wrapper]: items } };
}

function written(env: Env, text: string): Reply {
  // Success text goes where the error text would, except in `error` (a success is no error).
  const field = env.options.helloid.errorField === 'error' ? 'message' : env.options.helloid.errorField;
  return env.options.helloid.writeResponse === 'json' ? { status: 200, json: { [field]: text } } : { status: 200 };
}

/**
 * One page of GET /api/v1/users. Offset paging over a list that changes is not a
 * snapshot: the helloidDeleteUserWhilePaging fault deletes a user once N pages have
 * been served, so the next page starts one user later than the client expects.
 */
function usersPage(ctx: Ctx, env: Env): Reply {
  const pg = paging(ctx, env);
  if ('status' in pg) return pg;
  const h = env.model.helloid;
  const deleted = ctx.url.searchParams.get('isDeleted')?.toLowerCase() === 'true';
  const reply = list(env, h.listedUsers(deleted).slice(pg.skip, pg.skip + pg.take).map(renderUser));
  const fault = env.faults().helloidDeleteUserWhilePaging;
  if (fault && !deleted && --fault.afterPages <= 0) {
    env.faults().helloidDeleteUserWhilePaging = null;
    if (!h.findUser(fault.user)) return error(env, 500, `Emulator fault helloidDeleteUserWhilePaging names no user '${fault.user}'.`);
    h.deleteUser(fault.user);
  }
  return reply;
}

function bodyGuid(ctx: Ctx, name: string): string | undefined {
  const j = safeJson(ctx.body);
  if (!j.ok || !isObject(j.value)) return undefined;
  const v = getCi(j.value, name);
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

export interface HelloIdRoute {
  route: string;
  handle(ctx: Ctx, env: Env): Reply;
}

function addMember(env: Env, groupGuid: string, userGuid: string | undefined, missingField: string): Reply {
  const h = env.model.helloid;
  const g = h.groupByGuidOnly(groupGuid);
  if (!g) return error(env, 404, 'Group not found');
  if (!userGuid) return error(env, 400, `The request body must contain '${missingField}'.`);
  const u = h.userByGuidOnly(userGuid);
  if (!u || u.isDeleted) return error(env, 404, 'User not found');
  // Adding an existing member is not an error.
  g.members.add(u.userGUID);
  return written(env, 'User added to group');
}

function removeMember(env: Env, groupGuid: string, userGuid: string): Reply {
  const h = env.model.helloid;
  const g = h.groupByGuidOnly(groupGuid);
  if (!g) return error(env, 404, 'Group not found');
  // A deleted user's membership can still be removed: its GUID is still in the group
  // [inferred: no source shows this call for a deleted user].
  const u = h.userByGuidOnly(userGuid);
  if (!u) return error(env, 404, 'User not found');
  if (!g.members.delete(u.userGUID)) {
    return env.options.helloid.nonMemberDeleteStatus === 404 ? error(env, 404, 'User not found') : written(env, 'User is not a member of the group');
  }
  return written(env, 'User removed from group');
}

/** Route a HelloID request (path starts with /api/v1/). */
export function matchHelloId(method: string, path: string): HelloIdRoute | undefined {
  const seg = segments(path);
  if (!seg || seg[0] !== 'api' || seg[1] !== 'v1') return undefined;
  const [, , coll, id, sub, subId, ...more] = seg;
  if (more.length > 0) return undefined;
  const c = coll?.toLowerCase();
  const s = sub?.toLowerCase();
  if (c === 'users') {
    if (id === undefined && method === 'GET') {
      return {
        route: '/api/v1/users',
        handle: usersPage,
      };
    }
    if (id !== undefined && sub === undefined && method === 'GET') {
      return {
        route: '/api/v1/users/{user}',
        handle: (_ctx, env) => {
          const u = env.model.helloid.findUser(id);
          return u && !u.isDeleted ? { status: 200, json: renderUser(u) } : error(env, 404, 'User not found');
        },
      };
    }
    if (id !== undefined && s === 'groups' && subId === undefined && method === 'POST') {
      return {
        route: '/api/v1/users/{user}/groups',
        handle: (ctx, env) => {
          const u = env.model.helloid.userByGuidOnly(id);
          if (!u || u.isDeleted) return error(env, 404, 'User not found');
          const groupGuid = bodyGuid(ctx, 'groupGUID');
          if (!groupGuid) return error(env, 400, "The request body must contain 'groupGUID'.");
          return addMember(env, groupGuid, id, 'userGUID');
        },
      };
    }
    if (id !== undefined && s === 'groups' && subId !== undefined && method === 'DELETE') {
      return { route: '/api/v1/users/{user}/groups/{group}', handle: (_ctx, env) => removeMember(env, subId, id) };
    }
  }
  if (c === 'groups') {
    if (id === undefined && method === 'GET') {
      return {
        route: '/api/v1/groups',
        handle: (ctx, env) => {
          const pg = paging(ctx, env);
          if ('status' in pg) return pg;
          return list(env, env.model.helloid.groups.slice(pg.skip, pg.skip + pg.take).map(renderGroup));
        },
      };
    }
    if (id !== undefined && sub === undefined && method === 'GET') {
      return {
        route: '/api/v1/groups/{group}',
        handle: (_ctx, env) => {
          const g = env.model.helloid.findGroup(id);
          return g ? { status: 200, json: { ...renderGroup(g), users: [...g.members] } } : error(env, 404, 'Group not found');
        },
      };
    }
    if (id !== undefined && s === 'users' && subId === undefined && method === 'POST') {
      return { route: '/api/v1/groups/{group}/users', handle: (ctx, env) => addMember(env, id, bodyGuid(ctx, 'userGUID'), 'userGUID') };
    }
    if (id !== undefined && s === 'users' && subId !== undefined && method === 'DELETE') {
      return { route: '/api/v1/groups/{group}/users/{user}', handle: (_ctx, env) => removeMember(env, id, subId) };
    }
  }
  return undefined;
}

export function helloIdNotFound(env: Env, ctx: Ctx): Reply {
  return error(env, 404, `No HTTP resource was found that matches the request URI '${ctx.baseUrl}${ctx.url.pathname}'.`);
}
