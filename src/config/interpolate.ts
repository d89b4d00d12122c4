/**
 * `${NAME}` substitution from the environment, applied to every string value of the
 * parsed YAML before validation (spec §2). `$${` is a literal `${`.
 *
 * The walk follows the schema: keys the schema does not know are left untouched, so
 * a typo is reported once as an unknown key rather than also as an unset variable.
 * Messages name the key path and the variable, never the value.
 */
import { formatPath, type KeyPath } from './paths.js';
import { schemaAt, type SchemaNode } from './schema.js';

/** Key paths (dotted) whose values are secrets: never echoed, must come from the environment. */
export const SECRET_PATHS: ReadonlyMap<string, string> = new Map([
  ['exchange.clientSecret', 'OWNERSYNC_CLIENT_SECRET'],
  ['exchange.certificate.password', 'OWNERSYNC_CERT_PASSWORD'],
  ['helloid.apiKey', 'HELLOID_API_KEY'],
  ['helloid.apiSecret', 'HELLOID_API_SECRET'],
]);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REFS_ONLY = /^(?:\$\{[A-Za-z_][A-Za-z0-9_]*\})+$/;
const SINGLE_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
/** Deeper than any valid config by far; stops runaway recursion on hostile input. */
const MAX_DEPTH = 64;

export interface InterpolationOutcome {
  /** The data with references replaced; failed strings are left as written. */
  value: unknown;
  problems: string[];
  /** Dotted paths that had a problem here, so validation does not report them twice. */
  failedPaths: Set<string>;
  /** Dotted paths written as `key:` with no value; treated as absent. */
  nullPaths: Set<string>;
}

type Env = Record<string, string | undefined>;

/** Replace references in one string. Returns the new string or a problem (without the value). */
export function interpolateString(raw: string, pathText: string, env: Env): { value: string } | { problem: string } {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const at = raw.indexOf('$', i);
    if (at < 0) {
      out += raw.slice(i);
      break;
    }
    out += raw.slice(i, at);
    if (raw.startsWith('$${', at)) {
      out += '${';
      i = at + 3;
      continue;
    }
    if (!raw.startsWith('${', at)) {
      out += '$';
      i = at + 1;
      continue;
    }
    const close = raw.indexOf('}', at + 2);
    if (close < 0) {
      return { problem: `${pathText} has a "\${" without a closing "}" (write $\${ for a literal \${)` };
    }
    const name = raw.slice(at + 2, close);
    if (!NAME.test(name)) {
      const shown = name.length <= 64 && !/[\s"]/.test(name) ? ` \${${name}}` : '';
      return {
        problem: `${pathText} has an invalid variable reference${shown}: a name is letters, digits and _, not starting with a digit (write $\${ for a literal \${)`,
      };
    }
    const v = env[name];
    if (v === undefined) return { problem: `${pathText} refers to \${${name}}, which is not set` };
    if (v === '') return { problem: `${pathText} refers to \${${name}}, which is empty` };
    out += v;
    i = close + 1;
  }
  return { value: out };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A value written as exactly `${NAME}` where the schema wants a boolean or a number is
 * converted, so `removeMembers: ${REMOVE_MEMBERS}` works from a CI variable. Anything
 * else stays a string and fails validation with the usual type message.
 */
function coerce(value: string, schema: SchemaNode | undefined): unknown {
  switch (schema?.type) {
    case 'boolean':
      if (/^true$/i.test(value)) return true;
      if (/^false$/i.test(value)) return false;
      return value;
    case 'integer':
    case 'number':
      return /^-?\d+(?:\.\d+)?$/.test(value) ? Number(value) : value;
    default:
      return value;
  }
}

/** Interpolate every string of `data` that lies on a path the schema knows. */
export function interpolate(data: unknown, env: Env): InterpolationOutcome {
  const problems: string[] = [];
  const failedPaths = new Set<string>();
  const nullPaths = new Set<string>();

  const fail = (path: KeyPath, problem: string): void => {
    problems.push(problem);
    failedPaths.add(formatPath(path));
  };

  const walk = (value: unknown, path: KeyPath, schema: SchemaNode | undefined): unknown => {
    // Unknown subtree: leave it for the validator to report as an unknown key.
    if (schema === undefined) return value;
    if (path.length > MAX_DEPTH) {
      fail(path, `${formatPath(path)} is nested too deeply`);
      return value;
    }
    if (typeof value === 'string') {
      const pathText = formatPath(path);
      const envName = SECRET_PATHS.get(pathText);
      if (envName !== undefined && !REFS_ONLY.test(value)) {
        fail(
          path,
          `${pathText} must come from the environment, e.g. \${${envName}}; secrets are never written into the file`,
        );
        return value;
      }
      const r = interpolateString(value, pathText, env);
      if ('problem' in r) {
        fail(path, r.problem);
        return value;
      }
      return SINGLE_REF.test(value) ? coerce(r.value, schema) : r.value;
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i], schema.items));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const child = value[key];
        if (child === null || child === undefined) {
          // `key:` with nothing after it (e.g. everything below commented out) means "not set".
          nullPaths.add(formatPath([...path, key]));
          continue;
        }
        const childSchema = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
        // defineProperty: a key named __proto__ must stay an ordinary (unknown) key.
        Object.defineProperty(out, key, {
          value: walk(child, [...path, key], childSchema),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
    // Buffers (!!binary), sets, bigints and the like: nothing in the schema accepts them.
    fail(path, `${formatPath(path)} has a kind of YAML value ownersync does not accept (binary data, a set or a custom tag)`);
    return value;
  };

  const value = walk(data, [], schemaAt([]));
  return { value, problems, failedPaths, nullPaths };
}
