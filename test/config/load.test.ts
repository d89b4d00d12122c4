import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadConfig, MAX_CONFIG_BYTES, parseConfig } from '../../src/config/index.js';
import { redact } from '../../src/redact.js';
import { CLIENT, ENV, SENTINELS, TENANT, baseObject, parse, problemsOf, toYaml, variant, type Obj } from './helpers.js';

const F = 'ownersync.yaml';

describe('parseConfig: defaults and resolution', () => {
  it('applies every default of spec §2 to a minimal config', () => {
    const cfg = parse(toYaml(baseObject()));
    expect(cfg).toEqual({
      sourcePath: '/etc/ownersync/ownersync.yaml',
      exchange: {
        tenantId: TENANT,
        clientId: CLIENT,
        clientSecret: SENTINELS.OWNERSYNC_CLIENT_SECRET,
        environment: 'O365Default',
        authorityHost: 'https://login.microsoftonline.com',
        adminApiUrl: 'https://outlook.office365.com',
        expandGroups: true,
      },
      helloid: {
        baseUrl: 'https://contoso.helloid.com',
        apiKey: SENTINELS.HELLOID_API_KEY,
        apiSecret: SENTINELS.HELLOID_API_SECRET,
      },
      sync: {
        groupSource: 'Local',
        groupPrefix: '',
        groupSuffix: ' Resource Owners',
        removeMembers: false,
        protectedUsers: [],
        limits: { maxRemovals: 100, maxRemovalPercent: 25, allowEmptyingGroups: false },
      },
      plan: { expiresAfter: '72h', expiresAfterMs: 72 * 3_600_000 },
      apply: { concurrency: 4, requireSignature: false },
    });
  });

  it('keeps explicit settings, including falsy ones', () => {
    const cfg = parse(
      variant((o) => {
        o.exchange.expandGroups = false;
        o.exchange.mailboxFilter = "DisplayName -like 'Shared-*'";
        o.exchange.organization = 'contoso.onmicrosoft.com';
        o.sync = {
          groupSource: 'Entra',
          groupPrefix: 'RO-',
          groupSuffix: '',
          removeMembers: true,
          protectedUsers: ['admin@contoso.com'],
          limits: { maxRemovals: 0, maxRemovalPercent: 12.5, allowEmptyingGroups: true },
        };
        o.plan = { expiresAfter: '7d' };
        o.apply = { concurrency: 1, requireSignature: true };
      }),
    );
    expect(cfg.exchange.expandGroups).toBe(false);
    expect(cfg.exchange.mailboxFilter).toBe("DisplayName -like 'Shared-*'");
    expect(cfg.exchange.organization).toBe('contoso.onmicrosoft.com');
    expect(cfg.sync).toEqual({
      groupSource: 'Entra',
      groupPrefix: 'RO-',
      groupSuffix: '',
      removeMembers: true,
      protectedUsers: ['admin@contoso.com'],
      limits: { maxRemovals: 0, maxRemovalPercent: 12.5, allowEmptyingGroups: true },
    });
    expect(cfg.plan).toEqual({ expiresAfter: '7d', expiresAfterMs: 7 * 86_400_000 });
    expect(cfg.apply).toEqual({ concurrency: 1, requireSignature: true });
  });

  it('leaves optional keys absent when unset', () => {
    const cfg = parse(toYaml(baseObject()));
    expect('organization' in cfg.exchange).toBe(false);
    expect('mailboxFilter' in cfg.exchange).toBe(false);
    expect('certificate' in cfg.exchange).toBe(false);
  });

  it('treats a key with no value (everything below commented out) as unset', () => {
    const text = `${toYaml(baseObject())}sync:\n  # removeMembers: true\nplan:\napply:\n`;
    const cfg = parse(text);
    expect(cfg.sync.removeMembers).toBe(false);
    expect(cfg.plan.expiresAfter).toBe('72h');
    expect(cfg.apply.concurrency).toBe(4);
  });

  it.each([
    ['90s', 90_000],
    ['90m', 90 * 60_000],
    ['72h', 72 * 3_600_000],
    ['7d', 7 * 86_400_000],
    ['365d', 365 * 86_400_000],
  ])('parses plan.expiresAfter %s', (text, ms) => {
    const cfg = parse(variant((o) => (o.plan = { expiresAfter: text })));
    expect(cfg.plan).toEqual({ expiresAfter: text, expiresAfterMs: ms });
  });

  it.each([
    ['O365Default', 'https://login.microsoftonline.com', 'https://outlook.office365.com'],
    ['O365USGovGCCHigh', 'https://login.microsoftonline.us', 'https://outlook.office365.us'],
    ['O365USGovDoD', 'https://login.microsoftonline.us', 'https://webmail.apps.mil'],
    ['O365China', 'https://login.chinacloudapi.cn', 'https://partner.outlook.cn'],
  ])('resolves the endpoints of %s', (environment, authorityHost, adminApiUrl) => {
    const cfg = parse(variant((o) => (o.exchange.environment = environment)));
    expect(cfg.exchange).toMatchObject({ environment, authorityHost, adminApiUrl });
  });

  it('lets explicit endpoints override the environment and strips trailing slashes from URLs', () => {
    const cfg = parse(
      variant((o) => {
        o.exchange.environment = 'O365China';
        o.exchange.authorityHost = 'https://127.0.0.1:8443/';
        o.exchange.adminApiUrl = 'https://127.0.0.1:8443/exchange//';
        o.helloid.baseUrl = 'https://contoso.helloid.com///';
      }),
    );
    expect(cfg.exchange.authorityHost).toBe('https://127.0.0.1:8443');
    expect(cfg.exchange.adminApiUrl).toBe('https://127.0.0.1:8443/exchange');
    expect(cfg.helloid.baseUrl).toBe('https://contoso.helloid.com');
    expect(cfg.exchange.environment).toBe('O365China');
  });

  it('resolves certificate.path against the base directory, and keeps absolute paths', () => {
    const withCert = (p: string) =>
      variant((o) => {
        delete o.exchange.clientSecret;
        o.exchange.certificate = { path: p, password: '${OWNERSYNC_CERT_PASSWORD}' };
      });
    const rel = parse(withCert('certs/app.pfx'), ENV, '/srv/config');
    expect(rel.exchange.certificate).toEqual({ path: '/srv/config/certs/app.pfx', password: SENTINELS.OWNERSYNC_CERT_PASSWORD });
    expect(rel.exchange.clientSecret).toBeUndefined();
    const abs = parse(withCert('/etc/pki/app.pem'), ENV, '/srv/config');
    expect(abs.exchange.certificate?.path).toBe('/etc/pki/app.pem');
  });

  it('records the given sourcePath', () => {
    expect(parseConfig(toYaml(baseObject()), 'x.yaml', ENV, '/a', '<demo>').sourcePath).toBe('<demo>');
  });

  it('reads a UTF-8 byte-order mark and YAML merge keys', () => {
    const text = `\uFEFFdefaults: &d\n  removeMembers: true\n`;
    // `defaults` is not a known key: merge keys work, but the anchor holder must be a known key.
    expect(problemsOf(text + toYaml(baseObject()))).toEqual([`${F}: unknown top-level key "defaults"`]);
    const merged = `\uFEFF${toYaml(baseObject())}sync:\n  <<: {removeMembers: true}\n  groupPrefix: X\n`;
    expect(parse(merged).sync).toMatchObject({ removeMembers: true, groupPrefix: 'X' });
  });

  it('registers every secret with the redactor', () => {
    parse(
      variant((o) => {
        delete o.exchange.clientSecret;
        o.exchange.certificate = { path: 'a.pem', password: '${OWNERSYNC_CERT_PASSWORD}' };
      }),
    );
    parse(toYaml(baseObject()));
    for (const s of Object.values(SENTINELS)) expect(redact(`x ${s} y`)).toBe('x *** y');
  });
});

describe('parseConfig: ${NAME} interpolation', () => {
  it('replaces references anywhere in a string', () => {
    const cfg = parse(
      variant((o) => {
        o.helloid.baseUrl = 'https://${HID_TENANT}.helloid.com';
        o.sync = { groupPrefix: '${PFX}-${PFX}-', protectedUsers: ['${SVC}'] };
      }),
      { ...ENV, HID_TENANT: 'contoso', PFX: 'RO', SVC: 'svc@contoso.com' },
    );
    expect(cfg.helloid.baseUrl).toBe('https://contoso.helloid.com');
    expect(cfg.sync.groupPrefix).toBe('RO-RO-');
    expect(cfg.sync.protectedUsers).toEqual(['svc@contoso.com']);
  });

  it('reads $${ as a literal ${ and leaves a lone $ alone', () => {
    const cfg = parse(
      variant((o) => {
        o.exchange.mailboxFilter = "CustomAttribute1 -eq '$${team}' -and Name -like 'a$b*'";
      }),
    );
    expect(cfg.exchange.mailboxFilter).toBe("CustomAttribute1 -eq '${team}' -and Name -like 'a$b*'");
  });

  it('does not interpolate inside a substituted value', () => {
    const cfg = parse(variant((o) => (o.sync = { groupPrefix: '${A}' })), { ...ENV, A: '${B}', B: 'no' });
    expect(cfg.sync.groupPrefix).toBe('${B}');
  });

  it('converts a value written as exactly ${NAME} where a boolean or number is expected', () => {
    const text = variant((o) => {
      o.sync = { removeMembers: '${REMOVE}', limits: { maxRemovals: '${MAX}', maxRemovalPercent: '${PCT}' } };
    });
    const cfg = parse(text, { ...ENV, REMOVE: 'True', MAX: '250', PCT: '7.5' });
    expect(cfg.sync.removeMembers).toBe(true);
    expect(cfg.sync.limits.maxRemovals).toBe(250);
    expect(cfg.sync.limits.maxRemovalPercent).toBe(7.5);
    expect(problemsOf(text, { ...ENV, REMOVE: 'yes', MAX: '2.5', PCT: 'x' })).toEqual([
      `${F}: sync.removeMembers must be boolean`,
      `${F}: sync.limits.maxRemovals must be an integer`,
      `${F}: sync.limits.maxRemovalPercent must be a number`,
    ]);
  });

  it('keeps a secret that looks like a number a string', () => {
    const cfg = parse(toYaml(baseObject()), { ...ENV, OWNERSYNC_CLIENT_SECRET: '0012345678' });
    expect(cfg.exchange.clientSecret).toBe('0012345678');
  });
});

type Case = [name: string, text: string, expected: string[], env?: Record<string, string | undefined>];

const without = (section: 'exchange' | 'helloid', key: string) =>
  variant((o) => {
    delete o[section][key];
  });

const CASES: Case[] = [
  // wrong types
  ['boolean as a word', variant((o) => (o.sync = { removeMembers: 'yes' })), [`${F}: sync.removeMembers must be boolean`]],
  ['integer with a fraction', variant((o) => (o.sync = { limits: { maxRemovals: 2.5 } })), [`${F}: sync.limits.maxRemovals must be an integer`]],
  ['number as a word', variant((o) => (o.sync = { limits: { maxRemovalPercent: 'ten' } })), [`${F}: sync.limits.maxRemovalPercent must be a number`]],
  ['section as a string', variant((o) => (o.sync = 'all')), [`${F}: sync must be a mapping`]],
  ['list as a string', variant((o) => (o.sync = { protectedUsers: 'alice' })), [`${F}: sync.protectedUsers must be a list`]],
  ['list item of the wrong type', variant((o) => (o.sync = { protectedUsers: ['a', 3, null] })), [`${F}: sync.protectedUsers[1] must be a string`, `${F}: sync.protectedUsers[2] must be a string`]],
  ['expiresAfter as a number', variant((o) => (o.plan = { expiresAfter: 72 })), [`${F}: plan.expiresAfter must be a duration such as "90m", "72h" or "7d" (a whole number followed by s, m, h or d)`]],
  ['secret of the wrong type', variant((o) => (o.helloid.apiKey = 12345678)), [`${F}: helloid.apiKey must be a string`]],
  ['binary data', `${toYaml(baseObject())}sync:\n  groupPrefix: !!binary aGVsbG8=\n`, [`${F}: sync.groupPrefix has a kind of YAML value ownersync does not accept (binary data, a set or a custom tag)`]],
  // unknown keys
  ['unknown key with a suggestion', variant((o) => (o.sync = { limits: { maxRemoval: 3 } })), [`${F}: sync.limits has unknown key "maxRemoval" (did you mean "maxRemovals"?)`]],
  ['unknown key differing in case', variant((o) => (o.sync = { RemoveMembers: true })), [`${F}: sync has unknown key "RemoveMembers" (did you mean "removeMembers"?)`]],
  ['unknown key that abbreviates a known one', variant((o) => (o.exchange.cert = { path: 'a.pem' })), [`${F}: exchange has unknown key "cert" (did you mean "certificate"?)`]],
  ['unknown key without a suggestion', variant((o) => (o.helloid.proxy = 'http://proxy')), [`${F}: helloid has unknown key "proxy"`]],
  ['unknown top-level key', variant((o) => (o.aply = { concurrency: 2 })), [`${F}: unknown top-level key "aply" (did you mean "apply"?)`]],
  ['misspelt section', toYaml({ exchnage: (baseObject() as { exchange: Obj }).exchange, helloid: (baseObject() as { helloid: Obj }).helloid }), [`${F}: exchange is required`, `${F}: unknown top-level key "exchnage" (did you mean "exchange"?)`]],
  ['unknown key under an unknown key is not looked into', variant((o) => (o.extra = { secret: '${UNSET_VAR}' })), [`${F}: unknown top-level key "extra"`]],
  // missing
  ['missing tenantId', without('exchange', 'tenantId'), [`${F}: exchange.tenantId is required`]],
  ['missing clientId', without('exchange', 'clientId'), [`${F}: exchange.clientId is required`]],
  ['missing apiSecret', without('helloid', 'apiSecret'), [`${F}: helloid.apiSecret is required`]],
  ['missing helloid', toYaml({ exchange: (baseObject() as { exchange: Obj }).exchange }), [`${F}: helloid is required`]],
  ['key with no value', `${toYaml({ helloid: (baseObject() as { helloid: Obj }).helloid })}exchange:\n  tenantId:\n  clientId: ${CLIENT}\n  clientSecret: \${OWNERSYNC_CLIENT_SECRET}\n`, [`${F}: exchange.tenantId has no value`]],
  // exactly one of clientSecret / certificate
  ['both clientSecret and certificate', variant((o) => (o.exchange.certificate = { path: 'a.pem' })), [`${F}: exchange: set exactly one of clientSecret or certificate (both are set)`]],
  ['neither clientSecret nor certificate', without('exchange', 'clientSecret'), [`${F}: exchange: set exactly one of clientSecret or certificate (neither is set)`]],
  ['certificate without path', variant((o) => { delete o.exchange.clientSecret; o.exchange.certificate = { password: '${OWNERSYNC_CERT_PASSWORD}' }; }), [`${F}: exchange.certificate.path is required`]],
  ['certificate as a string', variant((o) => { delete o.exchange.clientSecret; o.exchange.certificate = 'a.pem'; }), [`${F}: exchange.certificate must be a mapping`]],
  // formats
  ['bad tenant GUID', variant((o) => (o.exchange.tenantId = 'contoso.onmicrosoft.com')), [`${F}: exchange.tenantId must be a GUID`]],
  ['GUID with braces', variant((o) => (o.exchange.clientId = `{${CLIENT}}`)), [`${F}: exchange.clientId must be a GUID`]],
  ['organization without a dot', variant((o) => (o.exchange.organization = 'contoso')), [`${F}: exchange.organization must be a domain name such as contoso.onmicrosoft.com`]],
  ['http URL', variant((o) => (o.helloid.baseUrl = 'http://contoso.helloid.com')), [`${F}: helloid.baseUrl must be an https:// URL`]],
  ['not a URL', variant((o) => (o.helloid.baseUrl = 'contoso.helloid.com')), [`${F}: helloid.baseUrl must be an https:// URL`]],
  ['URL with credentials', variant((o) => (o.exchange.authorityHost = 'https://user:pass@login.microsoftonline.com')), [`${F}: exchange.authorityHost must be an https:// URL`]],
  ['URL with a query', variant((o) => (o.exchange.adminApiUrl = 'https://outlook.office365.com/?x=1')), [`${F}: exchange.adminApiUrl must be an https:// URL`]],
  ['unknown environment', variant((o) => (o.exchange.environment = 'Commercial')), [`${F}: exchange.environment must be one of O365Default, O365USGovGCCHigh, O365USGovDoD, O365China`]],
  ['environment in the wrong case', variant((o) => (o.exchange.environment = 'o365usgovdod')), [`${F}: exchange.environment must be one of O365Default, O365USGovGCCHigh, O365USGovDoD, O365China (did you mean "O365USGovDoD"?)`]],
  // ranges and empties
  ['concurrency 0', variant((o) => (o.apply = { concurrency: 0 })), [`${F}: apply.concurrency must be at least 1`]],
  ['concurrency 1000', variant((o) => (o.apply = { concurrency: 1000 })), [`${F}: apply.concurrency must be at most 32`]],
  ['negative maxRemovals', variant((o) => (o.sync = { limits: { maxRemovals: -1 } })), [`${F}: sync.limits.maxRemovals must be at least 0`]],
  ['percent over 100', variant((o) => (o.sync = { limits: { maxRemovalPercent: 101 } })), [`${F}: sync.limits.maxRemovalPercent must be at most 100`]],
  ['empty groupSource', variant((o) => (o.sync = { groupSource: '' })), [`${F}: sync.groupSource must not be empty`]],
  ['empty mailboxFilter', variant((o) => (o.exchange.mailboxFilter = '')), [`${F}: exchange.mailboxFilter must not be empty`]],
  // durations
  ...(['3 weeks', '72', '0h', '1.5h', '72H', '-1d', 'h', '72 h'].map((d): Case => [
    `duration ${JSON.stringify(d)}`,
    variant((o) => (o.plan = { expiresAfter: d })),
    [`${F}: plan.expiresAfter must be a duration such as "90m", "72h" or "7d" (a whole number followed by s, m, h or d)`],
  ])),
  ['duration over a year', variant((o) => (o.plan = { expiresAfter: '366d' })), [`${F}: plan.expiresAfter must be at most 365d`]],
  ['absurd duration', variant((o) => (o.plan = { expiresAfter: '99999999999999999999d' })), [`${F}: plan.expiresAfter must be at most 365d`]],
  // YAML and file shape
  ['YAML syntax error', `exchange:\n  tenantId: [1, 2\nhelloid: 3\n`, [`${F}:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]`]],
  ['duplicate key', `exchange:\n  tenantId: a\n  tenantId: b\n`, [`${F}:3:3: Map keys must be unique`]],
  ['tab indentation', `exchange:\n\ttenantId: a\n`, [`${F}:2:1: Tabs are not allowed as indentation`]],
  ['two documents', `a: 1\n---\nb: 2\n`, [`${F}:2:1: the file holds more than one YAML document (---); a configuration file has exactly one`]],
  ['alias without anchor', `exchange: *ex\n`, [`${F}:1:11: the alias *ex has no anchor &ex before it`]],
  ['unknown tag', `exchange: !vault secret/ex\n`, [`${F}:1:11: Unresolved tag: !vault`]],
  ['empty file', '', [`${F}: the file is empty`]],
  ['whitespace only', '  \n\n\t\n', [`${F}: the file is empty`]],
  ['comments only', '# exchange:\n#   tenantId: x\n', [`${F}: the file is empty`]],
  ['top-level list', '- exchange\n- helloid\n', [`${F}: the top level must be a mapping of keys (exchange, helloid, sync, plan, apply), but it is a list`]],
  ['top-level string', 'just some text\n', [`${F}: the top level must be a mapping of keys (exchange, helloid, sync, plan, apply), but it is a single string`]],
  ['top-level number', '42\n', [`${F}: the top level must be a mapping of keys (exchange, helloid, sync, plan, apply), but it is a number`]],
  // interpolation
  ['unset variable', variant((o) => (o.exchange.clientSecret = '${AZ_SECRET}')), [`${F}: exchange.clientSecret refers to \${AZ_SECRET}, which is not set`]],
  ['empty variable', variant((o) => (o.exchange.clientSecret = '${AZ_SECRET}')), [`${F}: exchange.clientSecret refers to \${AZ_SECRET}, which is empty`], { ...ENV, AZ_SECRET: '' }],
  ['unset variable in a URL', variant((o) => (o.helloid.baseUrl = 'https://${HID_TENANT}.helloid.com')), [`${F}: helloid.baseUrl refers to \${HID_TENANT}, which is not set`]],
  ['unset variable in a list', variant((o) => (o.sync = { protectedUsers: ['a', '${SVC_USER}'] })), [`${F}: sync.protectedUsers[1] refers to \${SVC_USER}, which is not set`]],
  ['unterminated reference', variant((o) => (o.sync = { groupPrefix: 'x${PFX' })), [`${F}: sync.groupPrefix has a "\${" without a closing "}" (write $\${ for a literal \${)`]],
  ['invalid variable name', variant((o) => (o.sync = { groupPrefix: '${1PFX}' })), [`${F}: sync.groupPrefix has an invalid variable reference \${1PFX}: a name is letters, digits and _, not starting with a digit (write $\${ for a literal \${)`]],
  ['literal secret', variant((o) => (o.helloid.apiKey = 'SENTINEL-literal-key')), [`${F}: helloid.apiKey must come from the environment, e.g. \${HELLOID_API_KEY}; secrets are never written into the file`]],
  ['secret with literal text around the reference', variant((o) => (o.exchange.clientSecret = 'x${OWNERSYNC_CLIENT_SECRET}')), [`${F}: exchange.clientSecret must come from the environment, e.g. \${OWNERSYNC_CLIENT_SECRET}; secrets are never written into the file`]],
  ['literal certificate password', variant((o) => { delete o.exchange.clientSecret; o.exchange.certificate = { path: 'a.pem', password: 'hunter22' }; }), [`${F}: exchange.certificate.password must come from the environment, e.g. \${OWNERSYNC_CERT_PASSWORD}; secrets are never written into the file`]],
];

describe('parseConfig: broken configs (exact messages)', () => {
  it.each(CASES)('%s', (_name, text, expected, env) => {
    expect(problemsOf(text, env ?? ENV)).toEqual(expected);
  });

  it('throws a ConfigError whose message lists every problem, one per line', () => {
    const text = variant((o) => (o.sync = { removeMembers: 'no', limits: { maxRemoval: 1 } }));
    let caught: unknown;
    try {
      parse(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(err.problems.join('\n'));
    expect(err.problems).toHaveLength(2);
    expect(err.stack).toBeDefined();
  });

  it('reports every problem at once', () => {
    const text = toYaml({
      exchange: {
        tenantId: 'not-a-guid',
        clientId: CLIENT,
        clientSecret: '${AZ_SECRET}',
        certificate: { path: 'a.pem' },
        environment: 'O365Germany',
        expandGroup: true,
      },
      helloid: { baseUrl: 'http://contoso.helloid.com', apiKey: 'literal-key', apiSecret: '${HELLOID_API_SECRET}' },
      sync: { removeMembers: 'true', limits: { maxRemovals: -5, maxRemovalPercent: '25%' } },
      plan: { expiresAfter: '3 days' },
      apply: { concurrency: 0, requireSignatures: true },
    });
    expect(problemsOf(text)).toEqual([
      `${F}: exchange.clientSecret refers to \${AZ_SECRET}, which is not set`,
      `${F}: helloid.apiKey must come from the environment, e.g. \${HELLOID_API_KEY}; secrets are never written into the file`,
      `${F}: exchange: set exactly one of clientSecret or certificate (both are set)`,
      `${F}: exchange has unknown key "expandGroup" (did you mean "expandGroups"?)`,
      `${F}: exchange.tenantId must be a GUID`,
      `${F}: exchange.environment must be one of O365Default, O365USGovGCCHigh, O365USGovDoD, O365China`,
      `${F}: helloid.baseUrl must be an https:// URL`,
      `${F}: sync.removeMembers must be boolean`,
      `${F}: sync.limits.maxRemovals must be at least 0`,
      `${F}: sync.limits.maxRemovalPercent must be a number`,
      `${F}: plan.expiresAfter must be a duration such as "90m", "72h" or "7d" (a whole number followed by s, m, h or d)`,
      `${F}: apply has unknown key "requireSignatures" (did you mean "requireSignature"?)`,
      `${F}: apply.concurrency must be at least 1`,
    ]);
  });

  it('uses the file label it is given', () => {
    expect(() => parseConfig('', 'config/prod.yaml', ENV, '/')).toThrow('config/prod.yaml: the file is empty');
  });

  it('refuses text larger than 1 MiB before parsing it', () => {
    const text = `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`;
    expect(problemsOf(text)).toEqual([
      `${F}: the file is ${MAX_CONFIG_BYTES + 3} bytes, more than the 1 MiB a configuration file may have; is this the right file?`,
    ]);
  });

  it('caps a flood of YAML errors', () => {
    const text = Array.from({ length: 40 }, (_, i) => `k${i}: "a\n  x: y: z\n`).join('');
    const problems = problemsOf(text);
    expect(problems.length).toBeLessThanOrEqual(21);
  });
});

describe('secrets never appear in messages', () => {
  const S = SENTINELS;
  const leaks: [string, string][] = [
    ['secret in a GUID field', variant((o) => (o.exchange.tenantId = '${OWNERSYNC_CLIENT_SECRET}'))],
    ['secret in a URL field', variant((o) => (o.helloid.baseUrl = '${HELLOID_API_KEY}'))],
    ['secret in the environment field', variant((o) => (o.exchange.environment = '${HELLOID_API_SECRET}'))],
    ['secret in a duration', variant((o) => (o.plan = { expiresAfter: '${OWNERSYNC_CERT_PASSWORD}' }))],
    ['secret in a boolean', variant((o) => (o.sync = { removeMembers: '${OWNERSYNC_CLIENT_SECRET}' }))],
    ['secret in an integer', variant((o) => (o.apply = { concurrency: '${HELLOID_API_KEY}' }))],
    ['secret under an unknown key', variant((o) => (o.helloid.token = S.HELLOID_API_KEY))],
    ['secret as an unknown top-level value', variant((o) => (o.secret = S.OWNERSYNC_CLIENT_SECRET))],
    ['literal secret', variant((o) => (o.exchange.clientSecret = S.OWNERSYNC_CLIENT_SECRET))],
    ['literal secret of the wrong type', `${toYaml({ helloid: baseObject().helloid })}exchange:\n  clientSecret: [${S.OWNERSYNC_CLIENT_SECRET}]\n`],
    ['unterminated quote after a secret', `helloid:\n  apiKey: "${S.HELLOID_API_KEY}\n`],
    ['nested mapping in a secret line', `helloid:\n  apiKey: ${S.HELLOID_API_KEY}: x\n`],
    ['bad escape in a secret', `helloid:\n  apiKey: "\\q${S.HELLOID_API_KEY}"\n`],
    ['block scalar header with a secret', `helloid:\n  apiKey: |x ${S.HELLOID_API_KEY}\n    b\n`],
    ['stray token with a secret', ` - ${S.HELLOID_API_KEY}\nfoo: bar\n`],
    ['unterminated reference in a secret', variant((o) => (o.helloid.apiSecret = `\${${S.HELLOID_API_SECRET}`))],
    ['literal password', variant((o) => { delete o.exchange.clientSecret; o.exchange.certificate = { path: 'a', password: S.OWNERSYNC_CERT_PASSWORD }; })],
  ];
  it.each(leaks)('%s', (_name, text) => {
    const problems = problemsOf(text);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      for (const s of Object.values(S)) expect(p).not.toContain(s);
      // The redactor is a second line of defence; the messages must not even need it.
      expect(p).not.toContain('***');
      expect(p).not.toContain('SENTINEL');
    }
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ownersync-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string | Buffer): string => {
    const p = path.join(dir, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
    return p;
  };
  const loadProblems = async (file: string, env = ENV): Promise<string[]> => {
    try {
      await loadConfig(file, env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };

  it('loads a file and records its absolute path', async () => {
    const p = write('ok.yaml', toYaml(baseObject()));
    const cfg = await loadConfig(path.relative(process.cwd(), p), ENV);
    expect(cfg.sourcePath).toBe(p);
    expect(cfg.helloid.apiKey).toBe(SENTINELS.HELLOID_API_KEY);
  });

  it('names a missing file and where it looked', async () => {
    const p = path.join(dir, 'nope.yaml');
    expect(await loadProblems(p)).toEqual([`${p}: cannot read the configuration file: no such file (looked for ${p}; use -c to name another file)`]);
  });

  it('refuses a directory', async () => {
    expect(await loadProblems(dir)).toEqual([`${dir}: is a directory, not a configuration file`]);
  });

  it('refuses a file larger than 1 MiB without reading it', async () => {
    const p = write('huge.yaml', Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20));
    expect(await loadProblems(p)).toEqual([
      `${p}: the file is ${MAX_CONFIG_BYTES + 1} bytes, more than the 1 MiB a configuration file may have; is this the right file?`,
    ]);
  });

  it('refuses a file that is not UTF-8', async () => {
    const p = write('latin1.yaml', Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
    expect(await loadProblems(p)).toEqual([`${p}: is not UTF-8 text`]);
  });

  it('prefixes problems with the file name as given', async () => {
    const p = write('bad.yaml', variant((o) => (o.sync = { removeMembers: 1 })));
    expect(await loadProblems(p)).toEqual([`${p}: sync.removeMembers must be boolean`]);
  });

  it('resolves certificate.path next to the config file and checks that it exists', async () => {
    const text = variant((o) => {
      delete o.exchange.clientSecret;
      o.exchange.certificate = { path: 'certs/app.pem' };
    });
    const p = write('sub/cert.yaml', text);
    const certPath = path.join(dir, 'sub', 'certs', 'app.pem');
    expect(await loadProblems(p)).toEqual([`${p}: exchange.certificate.path: cannot read ${certPath}: no such file`]);
    write('sub/certs/app.pem', '-----BEGIN CERTIFICATE-----\n');
    const cfg = await loadConfig(p, ENV);
    expect(cfg.exchange.certificate).toEqual({ path: certPath });
  });
});

describe('parseConfig: hostile input', () => {
  it('reports absurd nesting once', () => {
    expect(problemsOf(`exchange: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}`)).toEqual([`${F}: the YAML is nested too deeply`]);
  });

  it('refuses an alias bomb', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) {
      const [prev, cur] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    expect(problemsOf(lines.join('\n'))).toEqual([
      `${F}: cannot be read as YAML: Excessive alias count indicates a resource exhaustion attack`,
    ]);
  });

  it('keeps a key named __proto__ an ordinary unknown key', () => {
    const text = `${toYaml(baseObject())}__proto__:\n  polluted: true\n`;
    expect(problemsOf(text)).toEqual([`${F}: unknown top-level key "__proto__"`]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
