/**
 * Reading a tenant fixture: YAML (or JSON, parsed natively because a generated
 * 5,000-mailbox tenant is megabytes and JSON.parse is far faster than a YAML parser),
 * validated with ajv against schemas/tenant-fixture.schema.json. Every error is
 * reported at once, each naming the file and the JSON path.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { FixtureError } from './model.js';
import type { TenantFixture } from './types.js';

/** schemas/ sits two levels above both src/emulator and dist/emulator. */
export const FIXTURE_SCHEMA_URL = new URL('../../schemas/tenant-fixture.schema.json', import.meta.url);
/** The bundled demo tenant, resolved the same way. */
export const DEMO_FIXTURE_URL = new URL('../../examples/demo-tenant.yaml', import.meta.url);

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(FIXTURE_SCHEMA_URL, 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormatsModule.default(ajv);
    validator = ajv.compile(schema);
  }
  return validator;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') {
    return `${where}: unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  }
  if (e.keyword === 'enum') {
    return `${where}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`;
  }
  return `${where}: ${e.message ?? 'is invalid'}`;
}

/** Validate an already-parsed fixture; `source` names it in error messages. */
export function validateFixture(data: unknown, source = '<fixture>'): TenantFixture {
  const validate = getValidator();
  if (!validate(data)) {
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const e of validate.errors ?? []) {
      // oneOf failures repeat each branch's error; keep the list readable.
      const text = `${source}: ${describe(e)}`;
      if (!seen.has(text)) {
        seen.add(text);
        problems.push(text);
      }
    }
    throw new FixtureError(problems);
  }
  return data as TenantFixture;
}

/** Read and validate a fixture file (.yaml/.yml, or .json). */
export function loadFixture(path: string): TenantFixture {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FixtureError([`${path}: cannot read fixture (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
  let data: unknown;
  try {
    data = path.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: -1 });
  } catch (e) {
    throw new FixtureError([`${path}: not valid ${path.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`]);
  }
  return validateFixture(data, path);
}
