/**
 * Fault controls: defaults, merging a partial update (from code or the control
 * endpoint), the seeded PRNG behind the random faults (so a failing run can be
 * replayed), and matching of targeted rules against a request.
 */
import type { Faults, FaultRule, Service } from './types.js';
import { SERVICES } from './types.js';

export function defaultFaults(): Faults {
  return {
    latencyMs: 0,
    serviceLatencyMs: {},
    concurrency: {},
    retryAfterSeconds: 1,
    randomFailRate: 0,
    randomFailStatuses: [429, 503],
    resetRate: 0,
    transientRate: 0,
    randomServices: [...SERVICES],
    seed: 1,
    hangMs: 120_000,
    rules: [],
    tokenLifetimeSeconds: 3599,
    pageLinkTtlSeconds: 1800,
  };
}

const NUMBER_KEYS = ['latencyMs', 'retryAfterSeconds', 'randomFailRate', 'resetRate', 'transientRate', 'seed', 'hangMs', 'tokenLifetimeSeconds', 'pageLinkTtlSeconds'] as const;

/** Merge a partial update; maps merge per service, arrays (rules, statuses) replace. Throws on nonsense. */
export function mergeFaults(base: Faults, patch: Partial<Faults>): Faults {
  const out: Faults = { ...base, serviceLatencyMs: { ...base.serviceLatencyMs }, concurrency: { ...base.concurrency } };
  for (const k of NUMBER_KEYS) {
    const v = patch[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`faults.${k} must be a non-negative number`);
    out[k] = v;
  }
  if (out.randomFailRate > 1 || out.resetRate > 1 || out.transientRate > 1) throw new Error('faults.randomFailRate, faults.resetRate and faults.transientRate are fractions (0..1)');
  for (const k of ['serviceLatencyMs', 'concurrency'] as const) {
    const m = patch[k];
    if (m === undefined) continue;
    if (typeof m !== 'object' || m === null) throw new Error(`faults.${k} must be an object keyed by service`);
    for (const [s, v] of Object.entries(m)) {
      if (!SERVICES.includes(s as Service)) throw new Error(`faults.${k}: unknown service '${s}'`);
      if (v === null || v === undefined) delete out[k][s as Service];
      else if (typeof v !== 'number' || v < 0) throw new Error(`faults.${k}.${s} must be a non-negative number`);
      else out[k][s as Service] = v;
    }
  }
  if (patch.randomFailStatuses !== undefined) {
    if (!Array.isArray(patch.randomFailStatuses) || patch.randomFailStatuses.some((s) => !Number.isInteger(s) || s < 400 || s > 599)) {
      throw new Error('faults.randomFailStatuses must be HTTP error statuses');
    }
    out.randomFailStatuses = [...patch.randomFailStatuses];
  }
  if (patch.randomServices !== undefined) {
    if (!Array.isArray(patch.randomServices) || patch.randomServices.some((s) => !SERVICES.includes(s))) {
      throw new Error(`faults.randomServices must list services (${SERVICES.join(', ')})`);
    }
    out.randomServices = [...patch.randomServices];
  }
  if (patch.helloidDeleteUserWhilePaging !== undefined) {
    const d = patch.helloidDeleteUserWhilePaging;
    if (d !== null && (typeof d !== 'object' || typeof d.user !== 'string' || d.user === '' || !Number.isInteger(d.afterPages) || d.afterPages < 1)) {
      throw new Error('faults.helloidDeleteUserWhilePaging must be {"user": "<userName or userGUID>", "afterPages": <1 or more>} or null');
    }
    out.helloidDeleteUserWhilePaging = d === null ? null : { user: d.user, afterPages: d.afterPages };
  }
  if (patch.rules !== undefined) {
    if (!Array.isArray(patch.rules)) throw new Error('faults.rules must be an array');
    out.rules = patch.rules.map((r, i) => {
      if (!r || !['error', 'reset', 'hang'].includes(r.action)) throw new Error(`faults.rules[${i}].action must be error, reset or hang`);
      if (r.service !== undefined && !SERVICES.includes(r.service)) throw new Error(`faults.rules[${i}].service is unknown`);
      if (r.exception !== undefined && (typeof r.exception !== 'string' || r.exception.trim() === '')) throw new Error(`faults.rules[${i}].exception must be an exception type name`);
      if (r.path?.startsWith('^')) {
        try {
          new RegExp(r.path);
        } catch {
          throw new Error(`faults.rules[${i}].path is not a valid regular expression`);
        }
      }
      return { ...r };
    });
  }
  return out;
}

/** mulberry32: tiny, fast, good enough for fault dice. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

export interface RuleSubject {
  service: Service;
  method: string;
  path: string;
  /** Exchange cmdlets of the request ($batch: one per sub-request). */
  cmdlets: { cmdlet: string; identity?: string }[];
}

const regexCache = new Map<string, RegExp>();

/** A pattern starting with '^' is a regular expression; anything else a substring. */
function pathMatches(pattern: string, path: string): boolean {
  if (!pattern.startsWith('^')) return path.includes(pattern);
  let re = regexCache.get(pattern);
  if (!re) regexCache.set(pattern, (re = new RegExp(pattern)));
  return re.test(path);
}

/**
 * Does `rule` apply? `sameIdentity` decides whether two Exchange identities denote the
 * same object (so a rule naming a mailbox by address also fires for its guid).
 */
export function ruleMatches(
  rule: FaultRule,
  s: RuleSubject,
  sameIdentity: (a: string, b: string) => boolean,
): boolean {
  if (rule.times !== undefined && rule.times <= 0) return false;
  if (rule.service && rule.service !== s.service) return false;
  if (rule.method && rule.method.toUpperCase() !== s.method.toUpperCase()) return false;
  if (rule.path && !pathMatches(rule.path, s.path)) return false;
  if (rule.cmdlet || rule.identity) {
    return s.cmdlets.some(
      (c) =>
        (!rule.cmdlet || rule.cmdlet.toLowerCase() === c.cmdlet.toLowerCase()) &&
        (!rule.identity || (c.identity !== undefined && sameIdentity(rule.identity, c.identity))),
    );
  }
  return true;
}
