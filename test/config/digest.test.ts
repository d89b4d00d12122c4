import { describe, expect, it } from 'vitest';
import { canonicalJson, configDigest, redactedConfig } from '../../src/config/index.js';
import { ENV, SENTINELS, baseObject, parse, toYaml, variant } from './helpers.js';

const FULL = `
apply: { requireSignature: false, concurrency: 4 }
helloid:
  apiSecret: \${HELLOID_API_SECRET}
  apiKey: \${HELLOID_API_KEY}
  baseUrl: https://contoso.helloid.com
sync:
  limits: { allowEmptyingGroups: false, maxRemovalPercent: 25, maxRemovals: 100 }
  protectedUsers: [b@contoso.com, a@contoso.com]
  removeMembers: true
exchange:
  expandGroups: true
  clientSecret: \${OWNERSYNC_CLIENT_SECRET}
  clientId: 6a1f3c2e-8d4b-4f0a-b5e7-9c2d1e0f3a4b
  tenantId: 0b9b6f5e-3c1a-4d2e-9f70-2a4c8d1e5b36
`;

const REORDERED = `
exchange:
  tenantId: 0b9b6f5e-3c1a-4d2e-9f70-2a4c8d1e5b36
  clientId: 6a1f3c2e-8d4b-4f0a-b5e7-9c2d1e0f3a4b
  clientSecret: \${OWNERSYNC_CLIENT_SECRET}
  expandGroups: true
helloid:
  baseUrl: https://contoso.helloid.com/
  apiKey: \${HELLOID_API_KEY}
  apiSecret: \${HELLOID_API_SECRET}
sync:
  removeMembers: true
  protectedUsers: [a@contoso.com, b@contoso.com]
  limits: { maxRemovals: 100, maxRemovalPercent: 25, allowEmptyingGroups: false }
apply: { concurrency: 4, requireSignature: false }
`;

describe('configDigest', () => {
  it('has the form sha256:<64 hex>', () => {
    expect(configDigest(parse(FULL))).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('is stable under key reordering, trailing slashes, explicit defaults and protectedUsers order', () => {
    const a = configDigest(parse(FULL));
    expect(configDigest(parse(REORDERED))).toBe(a);
    expect(configDigest(parse(FULL))).toBe(a);
  });

  it('does not depend on where the file is', () => {
    const a = parse(FULL, ENV, '/one');
    const b = parse(FULL, ENV, '/two');
    expect(a.sourcePath).not.toBe(b.sourcePath);
    expect(configDigest(a)).toBe(configDigest(b));
  });

  it('does not change when only a secret changes', () => {
    const other = {
      OWNERSYNC_CLIENT_SECRET: 'another-client-secret',
      HELLOID_API_KEY: 'another-api-key',
      HELLOID_API_SECRET: 'another-api-secret',
    };
    expect(configDigest(parse(FULL, other))).toBe(configDigest(parse(FULL)));
    const cert = (password: string, dir: string) =>
      configDigest(
        parse(
          variant((o) => {
            delete o.exchange.clientSecret;
            o.exchange.certificate = { path: 'app.pfx', password: '${OWNERSYNC_CERT_PASSWORD}' };
          }),
          { ...ENV, OWNERSYNC_CERT_PASSWORD: password },
          dir,
        ),
      );
    expect(cert('pw-one-1', '/ci/runner/work')).toBe(cert('pw-two-2', '/home/alice/repo'));
  });

  it('does not change when only the sign-in method changes (it does not change what a plan says)', () => {
    const secret = configDigest(parse(toYaml(baseObject())));
    const cert = configDigest(
      parse(
        variant((o) => {
          delete o.exchange.clientSecret;
          o.exchange.certificate = { path: 'app.pfx' };
        }),
      ),
    );
    expect(cert).toBe(secret);
  });

  const settingChanges: [string, Parameters<typeof variant>[0]][] = [
    ['tenantId', (o) => (o.exchange.tenantId = '11111111-1111-1111-1111-111111111111')],
    ['organization', (o) => (o.exchange.organization = 'contoso.onmicrosoft.com')],
    ['environment', (o) => (o.exchange.environment = 'O365USGovGCCHigh')],
    ['adminApiUrl', (o) => (o.exchange.adminApiUrl = 'https://127.0.0.1:9000')],
    ['mailboxFilter', (o) => (o.exchange.mailboxFilter = "Name -like 'S*'")],
    ['expandGroups', (o) => (o.exchange.expandGroups = false)],
    ['baseUrl', (o) => (o.helloid.baseUrl = 'https://fabrikam.helloid.com')],
    ['groupSource', (o) => (o.sync = { groupSource: 'AD' })],
    ['groupPrefix', (o) => (o.sync = { groupPrefix: 'RO ' })],
    ['groupSuffix', (o) => (o.sync = { groupSuffix: '' })],
    ['removeMembers', (o) => (o.sync = { removeMembers: true })],
    ['protectedUsers', (o) => (o.sync = { protectedUsers: ['x@contoso.com'] })],
    ['maxRemovals', (o) => (o.sync = { limits: { maxRemovals: 99 } })],
    ['maxRemovalPercent', (o) => (o.sync = { limits: { maxRemovalPercent: 24 } })],
    ['allowEmptyingGroups', (o) => (o.sync = { limits: { allowEmptyingGroups: true } })],
  ];
  // Operating knobs and sign-in details: not part of what a plan depends on.
  const neutralChanges: [string, Parameters<typeof variant>[0]][] = [
    ['requireSignature', (o) => (o.apply = { requireSignature: true })],
    ['concurrency', (o) => (o.apply = { concurrency: 5 })],
    ['expiresAfter', (o) => (o.plan = { expiresAfter: '71h' })],
    ['authorityHost', (o) => (o.exchange.authorityHost = 'https://127.0.0.1:9000')],
    ['clientId', (o) => (o.exchange.clientId = '22222222-2222-2222-2222-222222222222')],
  ];
  it.each(settingChanges)('changes when %s changes', (_key, mutate) => {
    expect(configDigest(parse(variant(mutate)))).not.toBe(configDigest(parse(toYaml(baseObject()))));
  });
  it.each(neutralChanges)('does not change when %s changes', (_key, mutate) => {
    expect(configDigest(parse(variant(mutate)))).toBe(configDigest(parse(toYaml(baseObject()))));
  });
});

describe('redactedConfig', () => {
  it('holds no secret, no sourcePath and no certificate, but names the auth method', () => {
    const cfg = parse(
      variant((o) => {
        delete o.exchange.clientSecret;
        o.exchange.certificate = { path: 'app.pfx', password: '${OWNERSYNC_CERT_PASSWORD}' };
      }),
    );
    const r = redactedConfig(cfg);
    const text = JSON.stringify(r);
    for (const s of Object.values(SENTINELS)) expect(text).not.toContain(s);
    expect(text).not.toContain('app.pfx');
    expect(text).not.toContain('sourcePath');
    expect(r.exchange.auth).toBe('certificate');
    expect(redactedConfig(parse(toYaml(baseObject()))).exchange.auth).toBe('clientSecret');
  });

  it('does not share arrays with the config', () => {
    const cfg = parse(variant((o) => (o.sync = { protectedUsers: ['b', 'a'] })));
    const r = redactedConfig(cfg);
    expect(r.sync.protectedUsers).toEqual(['a', 'b']);
    expect(cfg.sync.protectedUsers).toEqual(['b', 'a']);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  });
});
