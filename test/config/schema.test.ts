import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../src/config/index.js';
import type { SchemaNode } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import { ENV } from './helpers.js';

/** Every key of spec §2 with its default (undefined: required or optional without default). */
const SPEC_KEYS: Record<string, unknown> = {
  'exchange.tenantId': undefined,
  'exchange.organization': undefined,
  'exchange.clientId': undefined,
  'exchange.clientSecret': undefined,
  'exchange.certificate': undefined,
  'exchange.certificate.path': undefined,
  'exchange.certificate.password': undefined,
  'exchange.environment': 'O365Default',
  'exchange.authorityHost': undefined,
  'exchange.adminApiUrl': undefined,
  'exchange.mailboxFilter': undefined,
  'exchange.expandGroups': true,
  'helloid.baseUrl': undefined,
  'helloid.apiKey': undefined,
  'helloid.apiSecret': undefined,
  'sync.groupSource': 'Local',
  'sync.groupPrefix': '',
  'sync.groupSuffix': ' Resource Owners',
  'sync.removeMembers': false,
  'sync.protectedUsers': [],
  'sync.limits.maxRemovals': 100,
  'sync.limits.maxRemovalPercent': 25,
  'sync.limits.allowEmptyingGroups': false,
  'plan.expiresAfter': '72h',
  'apply.concurrency': 4,
  'apply.requireSignature': false,
  'apply.allowedSigners': undefined,
};

/** [dotted path, node] for every property in the schema. */
function allProperties(node: SchemaNode, prefix = ''): [string, SchemaNode][] {
  return Object.entries(node.properties ?? {}).flatMap(([k, child]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [[p, child] as [string, SchemaNode], ...allProperties(child, p)];
  });
}

describe('schemas/config.schema.json', () => {
  const schema = configSchema();
  const props = allProperties(schema);

  it('is a valid draft-07 schema that compiles in strict mode', () => {
    const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true });
    expect(ajv.validateSchema(schema)).toBe(true);
  });

  it('has every key of spec §2 with the spec default, and no other leaf key', () => {
    const leafs = props.filter(([p]) => !['exchange', 'helloid', 'sync', 'plan', 'apply', 'sync.limits'].includes(p));
    expect(leafs.map(([p]) => p).sort()).toEqual(Object.keys(SPEC_KEYS).sort());
    for (const [p, node] of leafs) expect({ p, default: node.default }).toEqual({ p, default: SPEC_KEYS[p] });
  });

  it('rejects unknown keys in every mapping', () => {
    const objects = [['', schema] as [string, SchemaNode], ...props].filter(([, n]) => n.type === 'object');
    expect(objects.length).toBe(8);
    for (const [p, n] of objects) expect({ p, additionalProperties: n.additionalProperties }).toEqual({ p, additionalProperties: false });
  });

  it('describes every key in prose', () => {
    for (const [p, n] of props) {
      expect(typeof n.description, p).toBe('string');
      expect(n.description!.length, p).toBeGreaterThan(15);
      expect(n.description, p).toMatch(/^[A-Z].*\.$/s);
    }
  });
});

describe('examples/ownersync.yaml', () => {
  const EXAMPLE = 'examples/ownersync.yaml';

  it('is valid with its variables set', async () => {
    const cfg = await loadConfig(EXAMPLE, ENV);
    expect(cfg.exchange.clientSecret).toBe(ENV.OWNERSYNC_CLIENT_SECRET);
    expect(cfg.helloid.baseUrl).toBe('https://contoso.helloid.com');
  });

  it('names every variable it needs when none is set', async () => {
    const err = await loadConfig(EXAMPLE, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      `${EXAMPLE}: exchange.clientSecret refers to \${OWNERSYNC_CLIENT_SECRET}, which is not set`,
      `${EXAMPLE}: helloid.apiKey refers to \${HELLOID_API_KEY}, which is not set`,
      `${EXAMPLE}: helloid.apiSecret refers to \${HELLOID_API_SECRET}, which is not set`,
    ]);
  });

  it('mentions every key, and every variable of the original task', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    for (const p of Object.keys(SPEC_KEYS)) expect(text, p).toMatch(new RegExp(`\\b${p.split('.').pop()!}:`));
    for (const v of ['$AzureADtenantID', '$AzureADAppId', '$AzureADAppSecret', '$exchangeMailboxesFilter', '$portalBaseUrl', '$portalApiKey', '$portalApiSecret', '$resourceOwnerGroupSource', '$resourceOwnerGroupPrefix', '$resourceOwnerGroupSuffix', '$removeMembers']) {
      expect(text).toContain(v);
    }
  });
});
