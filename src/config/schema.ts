/**
 * The config JSON Schema (schemas/config.schema.json) and its compiled ajv validator.
 * The schema file is the single source of truth for keys, types, defaults and
 * descriptions; it is read from disk (not imported) because it lives outside
 * src/, and resolves the same way from src/ under vitest and from dist/ when built.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/** A (sub)schema node as far as this module needs to look into it. */
export interface SchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  required?: string[];
  enum?: unknown[];
  [key: string]: unknown;
}

/** Absolute path of schemas/config.schema.json. */
export const CONFIG_SCHEMA_PATH = fileURLToPath(new URL('../../schemas/config.schema.json', import.meta.url));

let schemaCache: SchemaNode | undefined;
let validatorCache: ValidateFunction | undefined;

/** The parsed config schema (cached; callers must not mutate it). */
export function configSchema(): SchemaNode {
  schemaCache ??= JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')) as SchemaNode;
  return schemaCache;
}

/** The compiled validator: allErrors so every problem is reported in one go. */
export function configValidator(): ValidateFunction {
  if (!validatorCache) {
    // verbose: errors carry parentSchema, which is where unknown-key suggestions come from.
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, useDefaults: false });
    // ajv-formats is CommonJS; under NodeNext its plugin function sits on `.default`.
    addFormatsModule.default(ajv, ['uri', 'hostname']);
    validatorCache = ajv.compile(configSchema());
  }
  return validatorCache;
}

/** The subschema at a key path (object keys only; array items via a number), or undefined. */
export function schemaAt(path: readonly (string | number)[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = configSchema();
  for (const seg of path) {
    if (!node) return undefined;
    if (typeof seg === 'number') node = node.items;
    else node = node.properties && Object.hasOwn(node.properties, seg) ? node.properties[seg] : undefined;
  }
  return node;
}
