/**
 * The plan file's JSON Schema (schemas/plan.schema.json), compiled once with ajv, and
 * ajv's errors turned into messages that name the offending key path the way a
 * person reads YAML (`changes[3].groupGuid`), not as JSON pointers.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/** Absolute URL of the schema file; the same relative location from src/ and dist/. */
export const PLAN_SCHEMA_URL = new URL('../../schemas/plan.schema.json', import.meta.url);

type FormatsPlugin = (ajv: Ajv) => Ajv;
// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

let compiled: ValidateFunction | undefined;

/** The compiled validator (lazy: the schema file is read on first use). */
export function planValidator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(PLAN_SCHEMA_URL, 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
    addFormats(ajv);
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/** `/changes/3/groupGuid` → `changes[3].groupGuid`. */
export function keyPath(pointer: string, child?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  let out = '';
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out || '(top level)';
}

function show(value: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const PATTERN_NAMES: Array<[RegExp, string]> = [
  [/\/definitions\/guid\//, 'a GUID (8-4-4-4-12 hex digits)'],
  [/\/definitions\/sha256\//, 'sha256:<64 lowercase hex digits>'],
  [/\/signature\//, 'hmac-sha256:<64 lowercase hex digits>'],
  [/\/sshSignature\//, 'an armored SSH signature (-----BEGIN SSH SIGNATURE-----)'],
  [/\/warning\/properties\/code\//, 'a lowercase warning code'],
  [/\/helloidBaseUrl\//, 'an http(s) URL'],
];

/** One readable line per ajv error: `<key path>: <problem>`. */
export function describeSchemaError(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${keyPath(e.instancePath, String(p.missingProperty))}: is missing`;
    case 'additionalProperties':
      return `${keyPath(e.instancePath, String(p.additionalProperty))}: is not a known key`;
    case 'type':
      return `${keyPath(e.instancePath)}: must be ${article(String(p.type))}, not ${describeType(e.data)}`;
    case 'pattern': {
      const name = PATTERN_NAMES.find(([re]) => re.test(e.schemaPath))?.[1] ?? `a string matching ${String(p.pattern)}`;
      return `${keyPath(e.instancePath)}: must be ${name}, got ${show(e.data)}`;
    }
    case 'format':
      return p.format === 'date-time'
        ? `${keyPath(e.instancePath)}: must be an ISO 8601 date-time with time zone (e.g. 2024-05-01T12:00:00.000Z), got ${show(e.data)}`
        : `${keyPath(e.instancePath)}: must be a valid ${String(p.format)}, got ${show(e.data)}`;
    case 'enum':
      return `${keyPath(e.instancePath)}: must be one of ${(p.allowedValues as unknown[]).map(show).join(', ')}, got ${show(e.data)}`;
    case 'const':
      return `${keyPath(e.instancePath)}: must be ${show(p.allowedValue)}, got ${show(e.data)}`;
    case 'uniqueItems':
      return `${keyPath(e.instancePath)}: lists the same value twice (items ${String(p.j)} and ${String(p.i)})`;
    case 'minLength':
    case 'minItems':
      return `${keyPath(e.instancePath)}: must not be empty`;
    case 'minimum':
      return `${keyPath(e.instancePath)}: must be at least ${String(p.limit)}, got ${show(e.data)}`;
    default:
      return `${keyPath(e.instancePath)}: ${e.message ?? e.keyword}`;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${show(v)}`;
  return `${typeof v} ${show(v)}`;
}

/** Every schema problem of `value`, as readable lines (empty when valid). */
export function schemaProblems(value: unknown): string[] {
  const validate = planValidator();
  if (validate(value)) return [];
  const lines = (validate.errors ?? []).map(describeSchemaError);
  return [...new Set(lines)];
}
