/**
 * Turns ajv errors into the messages a person fixing ownersync.yaml wants:
 * `<key.path> <what was expected>`, one per problem, with a "did you mean" for typos.
 * Values are never quoted back: any of them may hold an interpolated secret.
 */
import type { ErrorObject } from 'ajv';
import { formatPath, pointerToPath, quoteKey } from './paths.js';
import type { SchemaNode } from './schema.js';

/** What a pattern/format failure means, per key path (array indices don't occur here). */
const EXPECTED: Record<string, string> = {
  'exchange.tenantId': 'must be a GUID',
  'exchange.clientId': 'must be a GUID',
  'exchange.organization': 'must be a domain name such as contoso.onmicrosoft.com',
  'exchange.authorityHost': 'must be an https:// URL',
  'exchange.adminApiUrl': 'must be an https:// URL',
  'helloid.baseUrl': 'must be an https:// URL',
  'plan.expiresAfter': 'must be a duration such as "90m", "72h" or "7d" (a whole number followed by s, m, h or d)',
};

const TYPE_TEXT: Record<string, string> = {
  boolean: 'must be boolean',
  string: 'must be a string',
  integer: 'must be an integer',
  number: 'must be a number',
  object: 'must be a mapping',
  array: 'must be a list',
};

/** Optimal-string-alignment distance (Levenshtein plus adjacent transposition). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest known word when it is plausibly what was meant (case-insensitive), else undefined. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  if (word.length > 100) return undefined;
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const kl = k.toLowerCase();
    const d = editDistance(w, kl);
    const allowed = kl.length >= 12 ? 3 : kl.length >= 6 ? 2 : 1;
    // A clear abbreviation ("cert" for "certificate") is as good as a small typo.
    const isPrefix = w.length >= 4 && kl.startsWith(w);
    const score = isPrefix ? Math.min(d, allowed) : d;
    if (score <= allowed && score < bestD) {
      best = k;
      bestD = score;
    }
  }
  return best;
}

function didYouMean(word: string, known: readonly string[]): string {
  const s = suggest(word, known);
  return s === undefined ? '' : ` (did you mean "${s}"?)`;
}

function childPath(instancePath: string, key: string): string {
  return formatPath([...pointerToPath(instancePath), key]);
}

export interface TranslateContext {
  /** Paths already reported during interpolation. */
  failedPaths: ReadonlySet<string>;
  /** Paths written with no value. */
  nullPaths: ReadonlySet<string>;
  /** The validated data, to tell "both" from "neither" for the exchange credentials. */
  data: unknown;
}

const CREDENTIALS_ONE_OF = '#/properties/exchange/oneOf';

function exchangeCredentialsProblem(data: unknown): string {
  const ex = (data as { exchange?: Record<string, unknown> } | undefined)?.exchange ?? {};
  const both = Object.hasOwn(ex, 'clientSecret') && Object.hasOwn(ex, 'certificate');
  return `exchange: set exactly one of clientSecret or certificate (${both ? 'both are set' : 'neither is set'})`;
}

/** One message (without the file prefix) per ajv error; undefined for errors subsumed by another. */
export function translateError(err: ErrorObject, ctx: TranslateContext): string | undefined {
  if (err.schemaPath.startsWith(`${CREDENTIALS_ONE_OF}/`)) return undefined;
  const path = formatPath(pointerToPath(err.instancePath));
  if (ctx.failedPaths.has(path)) return undefined;
  const params = err.params as Record<string, unknown>;

  switch (err.keyword) {
    case 'oneOf':
      if (err.schemaPath === CREDENTIALS_ONE_OF) return exchangeCredentialsProblem(ctx.data);
      return `${path} must match exactly one of its allowed forms`;
    case 'additionalProperty':
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const parent = err.parentSchema as SchemaNode | undefined;
      const known = Object.keys(parent?.properties ?? {});
      const hint = didYouMean(key, known);
      return path === '' ? `unknown top-level key ${quoteKey(key)}${hint}` : `${path} has unknown key ${quoteKey(key)}${hint}`;
    }
    case 'required': {
      const full = childPath(err.instancePath, String(params.missingProperty));
      if (ctx.failedPaths.has(full)) return undefined;
      return ctx.nullPaths.has(full) ? `${full} has no value` : `${full} is required`;
    }
    case 'type': {
      const t = String(params.type);
      // "must be a GUID" says more than "must be a string" for `tenantId: 42`.
      if (t === 'string' && EXPECTED[path] !== undefined) return `${path} ${EXPECTED[path]}`;
      return `${path} ${TYPE_TEXT[t] ?? `must be of type ${t}`}`;
    }
    case 'pattern':
    case 'format':
      return `${path} ${EXPECTED[path] ?? (err.keyword === 'format' ? `must be a valid ${String(params.format)}` : 'has an invalid value')}`;
    case 'enum': {
      const allowed = ((err.schema as unknown[]) ?? []).map(String);
      const hint = typeof err.data === 'string' ? didYouMean(err.data, allowed) : '';
      return `${path} must be one of ${allowed.join(', ')}${hint}`;
    }
    case 'minimum':
      return `${path} must be at least ${String(params.limit)}`;
    case 'maximum':
      return `${path} must be at most ${String(params.limit)}`;
    case 'minLength':
      return Number(params.limit) === 1 ? `${path} must not be empty` : `${path} must be at least ${String(params.limit)} characters`;
    default:
      // ajv's own messages never include the value, so they are safe to pass on.
      return `${path === '' ? 'the top level' : path} ${err.message ?? 'is invalid'}`;
  }
}

/** Translate and de-duplicate (a bad URL fails both `format` and `pattern`), keeping ajv's order. */
export function translateErrors(errors: readonly ErrorObject[], ctx: TranslateContext): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const m = translateError(e, ctx);
    if (m !== undefined && !out.includes(m)) out.push(m);
  }
  return out;
}
