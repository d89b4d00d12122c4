/**
 * Whatever text or data reaches parseConfig, the only thing it may throw is a
 * ConfigError whose problems name the file, and no problem may carry a secret.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { clearSecrets } from '../../src/redact.js';
import { ENV, SENTINELS, baseObject } from './helpers.js';

const FILE = 'ownersync.yaml';

function check(text: string, env: Record<string, string | undefined> = ENV): void {
  // Generated environments register short everyday words as secrets; start clean each run.
  clearSecrets();
  try {
    const cfg = parseConfig(text, FILE, env, '/base');
    // Accepted: the result must at least have the shape the rest of the tool relies on.
    expect(cfg.helloid.baseUrl).toMatch(/^https:\/\//);
    expect(Number.isInteger(cfg.plan.expiresAfterMs)).toBe(true);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) {
      expect(p.startsWith(`${FILE}:`)).toBe(true);
      for (const s of Object.values(SENTINELS)) expect(p).not.toContain(s);
      if (!text.includes('***')) expect(p).not.toContain('***');
    }
  }
}

const TOKENS = [
  'exchange', 'helloid', 'sync', 'limits', 'plan', 'apply', 'tenantId', 'clientSecret', 'certificate', 'path',
  'apiKey', 'baseUrl', 'maxRemovals', 'expiresAfter', 'protectedUsers', 'removeMembers', 'environment',
  ':', ': ', '-', '- ', ' ', '  ', '\n', '\n  ', '\t', '[', ']', '{', '}', ',', '"', "'", '#', '---', '...', '|', '>',
  '&a ', '*a', '<<: ', '!!binary ', '!!str ', '!!set ', '!!omap ', '!tag ', '?', '%YAML 1.2', '@', '`',
  '${OWNERSYNC_CLIENT_SECRET}', '${HELLOID_API_KEY}', '${UNSET}', '${', '$${', '${1x}', '}', '$',
  'true', 'null', '~', '0', '-1', '1e999', '.nan', '.inf', '72h', 'https://x.helloid.com', 'http://', '\uFEFF', 'é', '\u0000',
];

const yamlish = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((t) => t.join(''));

/** Key paths worth corrupting in an otherwise valid config. */
const PATHS: string[][] = [
  ['exchange'], ['helloid'], ['sync'], ['plan'], ['apply'],
  ['exchange', 'tenantId'], ['exchange', 'clientId'], ['exchange', 'clientSecret'], ['exchange', 'certificate'],
  ['exchange', 'certificate', 'path'], ['exchange', 'certificate', 'password'], ['exchange', 'environment'],
  ['exchange', 'authorityHost'], ['exchange', 'organization'], ['exchange', 'expandGroups'], ['helloid', 'baseUrl'],
  ['helloid', 'apiKey'], ['sync', 'protectedUsers'], ['sync', 'limits'], ['sync', 'limits', 'maxRemovals'],
  ['sync', 'limits', 'maxRemovalPercent'], ['plan', 'expiresAfter'], ['apply', 'concurrency'], ['__proto__'],
  ['exchange', 'constructor'], ['sync', 'limits', 'toString'],
];

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    const next = Object.hasOwn(o, k) ? o[k] : undefined;
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      Object.defineProperty(o, k, { value: {}, enumerable: true, writable: true, configurable: true });
    }
    o = o[k] as Record<string, unknown>;
  }
  Object.defineProperty(o, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
}

const interestingString = fc.oneof(
  fc.string(),
  fc.constantFrom('${OWNERSYNC_CLIENT_SECRET}', '${NOPE}', '$${x}', '${', 'https://a.b', '72h', '0h', 'O365China', '', ' '),
  fc.string().map((s) => `\${${s}}`),
);
const value = fc.oneof(fc.jsonValue(), interestingString);

describe('parseConfig never throws anything but ConfigError', () => {
  it('on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (t) => check(t)), { numRuns: 300 });
  });

  it('on YAML-ish token soup', () => {
    fc.assert(fc.property(yamlish, (t) => check(t)), { numRuns: 300 });
  });

  it('on arbitrary JSON values (JSON is YAML)', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => check(JSON.stringify(v) ?? 'null')), { numRuns: 300 });
  });

  it('on arbitrary objects written as YAML', () => {
    fc.assert(fc.property(fc.object(), (o) => check(stringify(o))), { numRuns: 200 });
  });

  it('on valid configs with one to three keys corrupted', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...PATHS), value), { minLength: 1, maxLength: 3 }), (edits) => {
        const o = baseObject();
        for (const [p, v] of edits) setPath(o, p, v);
        check(stringify(o));
      }),
      { numRuns: 300 },
    );
  });

  it('with any environment', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('OWNERSYNC_CLIENT_SECRET', 'HELLOID_API_KEY', 'HELLOID_API_SECRET'), fc.string()), (env) =>
        check(stringify(baseObject()), env),
      ),
      { numRuns: 200 },
    );
  });

  it('on deeply nested input', () => {
    for (const depth of [100, 5_000]) {
      check(`${'['.repeat(depth)}${']'.repeat(depth)}`);
      check(`exchange: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`);
    }
  });

  it('on an alias bomb', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    check(lines.join('\n'));
  });
});
