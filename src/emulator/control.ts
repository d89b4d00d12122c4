/**
 * The control endpoints under /_emulator/, for tests and benches that drive the
 * emulator from another process: stats, fault changes, and out-of-band HelloID
 * changes (membership drift, deleted users). Always protected by the control token printed at
 * start (`Authorization: Bearer <token>` or `X-Emulator-Token: <token>`), because
 * the emulator listens on a port any local process can reach.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Ctx, Env, Reply } from './http-util.js';
import { getCi, isObject, safeJson, segments } from './http-util.js';
import type { Faults, Stats } from './types.js';

export interface ControlApi {
  token: string;
  faults(): Faults;
  setFaults(patch: Partial<Faults>): Faults;
  resetFaults(): Faults;
  stats(): Stats;
  resetStats(): void;
  expirePageLinks(): void;
  expireTokens(): void;
}

function authorized(ctx: Ctx, token: string): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.header('authorization') ?? '')?.[1];
  const given = bearer ?? ctx.header('x-emulator-token');
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const err = (status: number, message: string): Reply => ({ status, json: { message } });

function groupView(env: Env, ref: string): Reply {
  const h = env.model.helloid;
  const g = h.findGroup(ref);
  if (!g) return err(404, `HelloID group '${ref}' not found`);
  return {
    status: 200,
    json: {
      groupGuid: g.groupGuid,
      name: g.name,
      source: g.source,
      members: [...g.members].map((id) => ({ userGUID: id, userName: h.userByGuidOnly(id)?.userName ?? null })),
    },
  };
}

export function handleControl(ctx: Ctx, env: Env, api: ControlApi): Reply {
  const seg = segments(ctx.path) ?? [];
  const [, what, ...rest] = seg;
  const m = ctx.method;
  if (what === 'health' && m === 'GET') return { status: 200, json: { ok: true } };
  if (!authorized(ctx, api.token)) return err(401, 'control token required (Authorization: Bearer <token> or X-Emulator-Token)');

  const body = (): Record<string, unknown> | undefined => {
    const j = safeJson(ctx.body);
    return j.ok && isObject(j.value) ? j.value : undefined;
  };

  if (what === 'stats' && m === 'GET' && rest.length === 0) return { status: 200, json: api.stats() };
  if (what === 'reset-stats' && m === 'POST') {
    api.resetStats();
    return { status: 200, json: { ok: true } };
  }
  if (what === 'faults' && rest.length === 0) {
    if (m === 'GET') return { status: 200, json: api.faults() };
    if (m === 'POST') {
      const patch = body();
      if (!patch) return err(400, 'body must be a JSON object of fault settings');
      try {
        return { status: 200, json: api.setFaults(patch as Partial<Faults>) };
      } catch (e) {
        return err(400, (e as Error).message);
      }
    }
  }
  if (what === 'reset-faults' && m === 'POST') return { status: 200, json: api.resetFaults() };
  if (what === 'expire-page-links' && m === 'POST') {
    api.expirePageLinks();
    return { status: 200, json: { ok: true } };
  }
  if (what === 'expire-tokens' && m === 'POST') {
    api.expireTokens();
    return { status: 200, json: { ok: true } };
  }
  if (what === 'helloid' && rest[0] === 'groups' && rest[1] !== undefined) {
    const ref = rest[1];
    const h = env.model.helloid;
    if (rest.length === 2 && m === 'GET') return groupView(env, ref);
    if (rest[2] === 'members' && rest.length === 3 && m === 'POST') {
      const b = body();
      const user = b ? (getCi(b, 'user') ?? getCi(b, 'userGUID') ?? getCi(b, 'userName')) : undefined;
      if (typeof user !== 'string') return err(400, "body must be {\"user\": \"<userName or userGUID>\"}");
      try {
        const outcome = h.addMember(ref, user);
        return { status: 200, json: { outcome, ...(groupView(env, ref).json as object) } };
      } catch (e) {
        return err(404, (e as Error).message);
      }
    }
    if (rest[2] === 'members' && rest.length === 4 && m === 'DELETE') {
      try {
        const outcome = h.removeMember(ref, rest[3]!);
        return { status: 200, json: { outcome, ...(groupView(env, ref).json as object) } };
      } catch (e) {
        return err(404, (e as Error).message);
      }
    }
  }
  if (what === 'helloid' && rest[0] === 'users' && rest[1] !== undefined && rest.length === 2 && m === 'DELETE') {
    // Deleting a user keeps its GUID in its groups, as HelloID does.
    try {
      const u = env.model.helloid.deleteUser(rest[1]);
      return { status: 200, json: { userGUID: u.userGUID, userName: u.userName, isDeleted: true } };
    } catch (e) {
      return err(404, (e as Error).message);
    }
  }
  return err(404, `no control endpoint ${m} ${ctx.url.pathname}`);
}
