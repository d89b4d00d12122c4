/**
 * Reads ownersync.yaml into an EffectiveConfig: YAML → `${NAME}` interpolation → ajv
 * validation (every problem at once) → defaults and per-cloud endpoints → secrets
 * registered with the redactor. Every failure is a ConfigError whose problems each
 * start with the file name and name the key at fault; no message contains a value.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isNode, LineCounter, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import { ConfigError } from '../errors.js';
import { redact, registerSecret } from '../redact.js';
import { ENVIRONMENT_ENDPOINTS, MAX_EXPIRES_AFTER_MS, parseDuration, stripTrailingSlashes } from './defaults.js';
import { interpolate, SECRET_PATHS } from './interpolate.js';
import { translateErrors } from './messages.js';
import { configValidator, schemaAt } from './schema.js';
import type { EffectiveConfig, ExchangeEnvironment } from './types.js';

/** Larger than any sensible config by three orders of magnitude; refuse rather than parse. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Default config file name, relative to the working directory. */
export const DEFAULT_CONFIG_FILE = 'ownersync.yaml';

type Env = Record<string, string | undefined>;

function fail(problems: string[]): never {
  throw new ConfigError(problems.map((p) => redact(p)));
}

function tooLarge(file: string, size: number): never {
  fail([`${file}: the file is ${size} bytes, more than the 1 MiB a configuration file may have; is this the right file?`]);
}

/**
 * yaml's messages sometimes quote the offending source text, which could be a secret
 * written into the file by mistake. Keep the first line and drop quoted source.
 */
function yamlMessage(err: YAMLError): string {
  let m = (err.message.split('\n')[0] ?? '').trim();
  m = m.replace(/:\s*".*$/, '');
  m = m.replace(
    /^(Unresolved plain scalar|Invalid escape sequence|Block scalar header includes extra characters|Ordered maps must not include duplicate keys|Not a valid tag|Could not resolve tag|Not a YAML token|Anchor must not contain whitespace or control characters)\b.*$/,
    '$1',
  );
  if (m.startsWith('Source contains multiple documents')) m = 'the file holds more than one YAML document (---); a configuration file has exactly one';
  m = m.replace(/[.:\s]+$/, '');
  return m || 'invalid YAML';
}

function describeKind(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return 'a single string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return 'something else';
}

/**
 * The first alias whose anchor does not come before it, in one pass over the document
 * (Alias.resolve scans the whole document on every call, quadratic on hostile input).
 */
function firstUnresolvedAlias(doc: Document): { name: string; offset: number } | undefined {
  const anchors = new Set<string>();
  let found: { name: string; offset: number } | undefined;
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      if (!anchors.has(node.source)) {
        found = { name: node.source, offset: node.range?.[0] ?? 0 };
        return visit.BREAK;
      }
    } else if (isNode(node) && node.anchor) {
      anchors.add(node.anchor);
    }
    return undefined;
  });
  return found;
}

/** YAML text → plain data, or a ConfigError naming line and column. */
function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  let data: unknown;
  const problems: string[] = [];
  try {
    const doc = parseDocument(text.replace(/^\uFEFF/, ''), {
      lineCounter,
      prettyErrors: false,
      uniqueKeys: true,
      merge: true,
    });
    const issues = [...doc.errors, ...doc.warnings];
    // yaml turns a stack overflow on absurd nesting into one error per level; say it once.
    if (issues.some((e) => e.message.includes('Maximum call stack size exceeded'))) {
      fail([`${file}: the YAML is nested too deeply`]);
    }
    // Warnings (e.g. an unknown !tag silently read as a string) are mistakes in a config file too.
    for (const e of issues) {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      const m = `${file}:${line}:${col}: ${yamlMessage(e)}`;
      if (!problems.includes(m)) problems.push(m);
    }
    if (problems.length > 0) {
      const MAX = 20;
      if (problems.length > MAX) fail([...problems.slice(0, MAX), `${file}: … and ${problems.length - MAX} more YAML errors`]);
      fail(problems);
    }
    try {
      // maxAliasCount guards against "billion laughs" alias expansion.
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // yaml reports an alias without its anchor with no position; find it for the message.
      const alias = err instanceof ReferenceError ? firstUnresolvedAlias(doc) : undefined;
      if (alias) {
        const { line, col } = lineCounter.linePos(alias.offset);
        fail([`${file}:${line}:${col}: the alias *${alias.name} has no anchor &${alias.name} before it`]);
      }
      throw err;
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // Unresolved aliases, alias bombs, pathological nesting: report, never crash.
    const msg = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    const safe = err instanceof RangeError ? 'the YAML is nested too deeply' : msg.replace(/:\s*".*$/, '');
    fail([`${file}: cannot be read as YAML: ${safe}`]);
  }
  return data;
}

/**
 * Parse, interpolate, validate and complete a config given as text.
 *
 * @param text - the YAML source
 * @param fileLabel - the name used in messages, e.g. `ownersync.yaml`
 * @param env - where `${NAME}` is looked up
 * @param baseDir - directory that a relative `exchange.certificate.path` is resolved against
 * @param sourcePath - recorded as `sourcePath`; defaults to `fileLabel` resolved against `baseDir`
 * @throws ConfigError with every problem found
 */
export function parseConfig(
  text: string,
  fileLabel: string,
  env: Env = process.env,
  baseDir: string = process.cwd(),
  sourcePath: string = path.resolve(baseDir, path.basename(fileLabel)),
): EffectiveConfig {
  const file = fileLabel;
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_CONFIG_BYTES) {
    tooLarge(file, size);
  }

  const data = parseYaml(text, file);
  if (data === null || data === undefined) fail([`${file}: the file is empty`]);
  if (typeof data !== 'object' || Array.isArray(data)) {
    fail([`${file}: the top level must be a mapping of keys (exchange, helloid, sync, plan, apply), but it is ${describeKind(data)}`]);
  }

  const interpolated = interpolate(data, env);

  // Register secrets before anything can fail, so even an unexpected message is redacted.
  const registerAt = (obj: unknown, keys: string[]): void => {
    let v: unknown = obj;
    for (const k of keys) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    if (typeof v === 'string') registerSecret(v);
  };
  for (const p of SECRET_PATHS.keys()) {
    // A failed value is still the raw `${NAME}` text, which is not a secret.
    if (!interpolated.failedPaths.has(p)) registerAt(interpolated.value, p.split('.'));
  }

  const validate = configValidator();
  const valid = validate(interpolated.value);
  const problems = [
    ...interpolated.problems,
    ...(valid
      ? []
      : translateErrors(validate.errors ?? [], {
          failedPaths: interpolated.failedPaths,
          nullPaths: interpolated.nullPaths,
          data: interpolated.value,
        })),
  ];
  if (problems.length > 0) fail(problems.map((p) => `${file}: ${p}`));

  const effective = complete(interpolated.value as RawConfig, baseDir, sourcePath, file);
  return effective;
}

/** The validated shape of the file (optional everywhere the schema has a default). */
interface RawConfig {
  exchange: {
    tenantId: string;
    organization?: string;
    clientId: string;
    clientSecret?: string;
    certificate?: { path: string; password?: string };
    environment?: ExchangeEnvironment;
    authorityHost?: string;
    adminApiUrl?: string;
    mailboxFilter?: string;
    expandGroups?: boolean;
  };
  helloid: { baseUrl: string; apiKey: string; apiSecret: string };
  sync?: {
    groupSource?: string;
    groupPrefix?: string;
    groupSuffix?: string;
    removeMembers?: boolean;
    protectedUsers?: string[];
    limits?: { maxRemovals?: number; maxRemovalPercent?: number; allowEmptyingGroups?: boolean };
  };
  plan?: { expiresAfter?: string };
  apply?: { concurrency?: number; requireSignature?: boolean; allowedSigners?: string };
}

/** The schema's `default` for a key; the schema is the one place defaults are written down. */
function schemaDefault<T>(keyPath: string): T {
  const node = schemaAt(keyPath.split('.'));
  if (!node || !('default' in node)) throw new Error(`config schema has no default for ${keyPath}`);
  return structuredClone(node.default) as T;
}

function complete(raw: RawConfig, baseDir: string, sourcePath: string, file: string): EffectiveConfig {
  const ex = raw.exchange;
  const environment = ex.environment ?? schemaDefault<ExchangeEnvironment>('exchange.environment');
  const endpoints = ENVIRONMENT_ENDPOINTS[environment];
  const sync = raw.sync ?? {};
  const limits = sync.limits ?? {};
  const expiresAfter = raw.plan?.expiresAfter ?? schemaDefault<string>('plan.expiresAfter');
  const expiresAfterMs = parseDuration(expiresAfter);
  if (expiresAfterMs === undefined || expiresAfterMs > MAX_EXPIRES_AFTER_MS) {
    fail([`${file}: plan.expiresAfter must be at most 365d`]);
  }

  const cfg: EffectiveConfig = {
    sourcePath,
    exchange: {
      tenantId: ex.tenantId,
      clientId: ex.clientId,
      environment,
      authorityHost: stripTrailingSlashes(ex.authorityHost ?? endpoints.authorityHost),
      adminApiUrl: stripTrailingSlashes(ex.adminApiUrl ?? endpoints.adminApiUrl),
      expandGroups: ex.expandGroups ?? schemaDefault<boolean>('exchange.expandGroups'),
    },
    helloid: {
      baseUrl: stripTrailingSlashes(raw.helloid.baseUrl),
      apiKey: raw.helloid.apiKey,
      apiSecret: raw.helloid.apiSecret,
    },
    sync: {
      groupSource: sync.groupSource ?? schemaDefault<string>('sync.groupSource'),
      groupPrefix: sync.groupPrefix ?? schemaDefault<string>('sync.groupPrefix'),
      groupSuffix: sync.groupSuffix ?? schemaDefault<string>('sync.groupSuffix'),
      removeMembers: sync.removeMembers ?? schemaDefault<boolean>('sync.removeMembers'),
      protectedUsers: sync.protectedUsers ?? schemaDefault<string[]>('sync.protectedUsers'),
      limits: {
        maxRemovals: limits.maxRemovals ?? schemaDefault<number>('sync.limits.maxRemovals'),
        maxRemovalPercent: limits.maxRemovalPercent ?? schemaDefault<number>('sync.limits.maxRemovalPercent'),
        allowEmptyingGroups: limits.allowEmptyingGroups ?? schemaDefault<boolean>('sync.limits.allowEmptyingGroups'),
      },
    },
    plan: { expiresAfter, expiresAfterMs },
    apply: {
      concurrency: raw.apply?.concurrency ?? schemaDefault<number>('apply.concurrency'),
      requireSignature: raw.apply?.requireSignature ?? schemaDefault<boolean>('apply.requireSignature'),
    },
  };
  // Optional keys are only present when set, so the digest tells "unset" from anything else.
  if (ex.organization !== undefined) cfg.exchange.organization = ex.organization;
  if (ex.mailboxFilter !== undefined) cfg.exchange.mailboxFilter = ex.mailboxFilter;
  if (ex.clientSecret !== undefined) cfg.exchange.clientSecret = ex.clientSecret;
  // Relative to the config file, like the certificate: the file travels with the repository.
  if (raw.apply?.allowedSigners !== undefined) cfg.apply.allowedSigners = path.resolve(baseDir, raw.apply.allowedSigners);
  if (ex.certificate !== undefined) {
    cfg.exchange.certificate = { path: path.resolve(baseDir, ex.certificate.path) };
    if (ex.certificate.password !== undefined) cfg.exchange.certificate.password = ex.certificate.password;
  }
  return cfg;
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}

/**
 * Read and parse a config file. Messages name the file as given (`ownersync.yaml`,
 * `config/prod.yaml`); `sourcePath` is absolute. A certificate file is checked for
 * existence here (not read: that is the Exchange client's job) so a wrong path is a
 * config error up front rather than a sign-in failure later.
 *
 * @throws ConfigError
 */
export async function loadConfig(file: string, env: Env = process.env): Promise<EffectiveConfig> {
  const abs = path.resolve(file);
  let size: number;
  try {
    const st = await stat(abs);
    if (st.isDirectory()) fail([`${file}: is a directory, not a configuration file`]);
    if (!st.isFile()) fail([`${file}: is not a regular file`]);
    size = st.size;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ` (looked for ${abs}; use -c to name another file)` : '';
    fail([`${file}: cannot read the configuration file: ${errnoText(err)}${hint}`]);
  }
  if (size > MAX_CONFIG_BYTES) tooLarge(file, size);
  let bytes: Buffer;
  try {
    bytes = await readFile(abs);
  } catch (err) {
    fail([`${file}: cannot read the configuration file: ${errnoText(err)}`]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail([`${file}: is not UTF-8 text`]);
  }

  const cfg = parseConfig(text, file, env, path.dirname(abs), abs);

  const cert = cfg.exchange.certificate;
  if (cert) {
    try {
      const st = await stat(cert.path);
      if (!st.isFile()) fail([`${file}: exchange.certificate.path: ${cert.path} is not a file`]);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      fail([`${file}: exchange.certificate.path: cannot read ${cert.path}: ${errnoText(err)}`]);
    }
  }
  const signers = cfg.apply.allowedSigners;
  if (signers !== undefined) {
    try {
      const st = await stat(signers);
      if (!st.isFile()) fail([`${file}: apply.allowedSigners: ${signers} is not a file`]);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      fail([`${file}: apply.allowedSigners: cannot read ${signers}: ${errnoText(err)}`]);
    }
  }
  return cfg;
}
