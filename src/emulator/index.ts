/**
 * The emulator of Entra ID, the Exchange Online admin API and HelloID, for tests,
 * benches and `ownersync plan --demo`. `start()` loads a tenant fixture, makes a
 * throwaway CA + server certificate, listens on 127.0.0.1 and returns handles to
 * its live state, fault controls and stats. It shares no code with the clients
 * (src/http, src/exchange, src/helloid) on purpose.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeTlsMaterial } from './certs.js';
import { TokenService } from './entra.js';
import { PageStore } from './exchange.js';
import { defaultFaults, mergeFaults } from './faults.js';
import { loadFixture, validateFixture } from './fixture.js';
import { buildModel, type ExchangeModel, type HelloIdState, type TenantModel } from './model.js';
import { EmulatorServer } from './server.js';
import { StatsCollector } from './stats.js';
import type { Env } from './http-util.js';
import type { DeepPartial, EmulatorOptions, Faults, Stats, TenantFixture } from './types.js';

export { loadFixture, validateFixture, DEMO_FIXTURE_URL, FIXTURE_SCHEMA_URL } from './fixture.js';
export { deterministicGuid } from './guid.js';
export { FixtureError } from './model.js';
export type { ExchangeModel, HelloIdState, HelloIdGroupRecord, HelloIdUserRecord, Recipient, PermissionRow, TenantModel } from './model.js';
export type * from './types.js';
export { SERVICES } from './types.js';
export { PAGINATION_ERROR } from './exchange.js';

export function defaultOptions(): EmulatorOptions {
  return {
    entra: { acceptedResources: ['https://outlook.office365.com'] },
    exchange: {
      maxPageSize: 1000,
      defaultResultSize: 1000,
      booleanStyle: 'boolean',
      permissionRowStyle: 'flat',
      accessRightsStyle: 'array',
      memberUpn: false,
      emptyValue: 'absent',
      rateLimitHeaders: true,
    },
    helloid: {
      defaultTake: 100,
      maxTake: 1000,
      nonMemberDeleteStatus: 404,
      errorField: 'message',
      listWrapper: 'plain',
      writeResponse: 'empty',
    },
    logLimit: 10_000,
  };
}

function mergeOptions(base: EmulatorOptions, patch: DeepPartial<EmulatorOptions> | undefined): EmulatorOptions {
  if (!patch) return base;
  return {
    ...base,
    ...patch,
    entra: { ...base.entra, ...patch.entra } as EmulatorOptions['entra'],
    exchange: { ...base.exchange, ...patch.exchange } as EmulatorOptions['exchange'],
    helloid: { ...base.helloid, ...patch.helloid } as EmulatorOptions['helloid'],
  } as EmulatorOptions;
}

export interface StartOptions {
  /** A fixture object, or the path of a fixture file (.yaml/.yml/.json). */
  fixture: TenantFixture | string;
  /** Default 0: any free port. */
  port?: number;
  faults?: Partial<Faults>;
  options?: DeepPartial<EmulatorOptions>;
}

/** The credentials and endpoints a client needs, with real (fake-demo) secret values. */
export interface ClientSettings {
  tenantId: string;
  organization: string;
  clientId: string;
  /** Absent when the first app has only a certificate. */
  clientSecret?: string;
  authorityHost: string;
  adminApiUrl: string;
  helloidBaseUrl: string;
  helloidApiKey: string;
  helloidApiSecret: string;
  caPem: string;
  caPath: string;
}

export interface MintTokenOptions {
  tenantId?: string;
  clientId?: string;
  lifetimeSeconds?: number;
  roles?: string[];
  directoryRoles?: string[];
  resource?: string;
}

export interface Emulator {
  /** https://127.0.0.1:PORT (no trailing slash). */
  url: string;
  port: number;
  /** The CA certificate file, for NODE_EXTRA_CA_CERTS. */
  caPath: string;
  caPem: string;
  /** Token for /_emulator/* (Authorization: Bearer …). */
  controlToken: string;
  tenantId: string;
  organization: string;
  /** Live, mutable state: HelloID membership changes show up in the next request. */
  state: { exchange: ExchangeModel; helloid: HelloIdState };
  model: TenantModel;
  stats(): Stats;
  resetStats(): void;
  faults(): Faults;
  /** Merge a partial fault update (per-service maps merge, arrays replace); returns the effective faults. */
  setFaults(patch: Partial<Faults>): Faults;
  /** Back to the faults given at start (the PRNG restarts from their seed). */
  resetFaults(): Faults;
  /** Invalidate every outstanding @odata.nextLink. */
  expirePageLinks(): void;
  /** Treat every token issued so far as expired. */
  expireTokens(): void;
  /** An access token as the token endpoint would issue, for any tenant (tests of the 401 paths). */
  mintToken(o?: MintTokenOptions): string;
  clientSettings(): ClientSettings;
  /** Environment values to export for the snippet (demo credentials and NODE_EXTRA_CA_CERTS). */
  env(): Record<string, string>;
  /** A ready-to-use ownersync.yaml for this emulator (secrets as ${ENV} references). */
  configSnippet(): string;
  stop(): Promise<void>;
}

export async function start(opts: StartOptions): Promise<Emulator> {
  const fixture = typeof opts.fixture === 'string' ? loadFixture(opts.fixture) : validateFixture(opts.fixture, '<fixture object>');
  const model = buildModel(fixture, typeof opts.fixture === 'string' ? opts.fixture : '<fixture object>');
  const options = mergeOptions(defaultOptions(), opts.options);
  let faults = mergeFaults(defaultFaults(), opts.faults ?? {});
  const controlToken = options.controlToken ?? randomBytes(18).toString('base64url');

  const stats = new StatsCollector(options.logLimit);
  const tokens = new TokenService();
  const pages = new PageStore(() => faults.pageLinkTtlSeconds);
  const ex = model.exchange;
  const env: Env = {
    model,
    options,
    faults: () => faults,
    tokens,
    pages,
    stats,
    sameIdentity: (a, b) => {
      if (a.trim().toLowerCase() === b.trim().toLowerCase()) return true;
      const ra = ex.recipientIndex.get(a);
      return ra !== undefined && ra === ex.recipientIndex.get(b);
    },
  };

  const tls = await makeTlsMaterial();
  let tempDir: string | undefined;
  let caPath: string;
  if (options.caPath) {
    caPath = options.caPath;
    await mkdir(dirname(caPath), { recursive: true });
  } else {
    tempDir = await mkdtemp(join(tmpdir(), 'ownersync-emulator-'));
    caPath = join(tempDir, 'ca.pem');
  }
  await writeFile(caPath, tls.caPem, 'utf8');

  const setFaults = (patch: Partial<Faults>): Faults => {
    faults = mergeFaults(faults, patch);
    server.faultsChanged(faults, patch.seed !== undefined);
    return faults;
  };
  const resetFaults = (): Faults => {
    faults = mergeFaults(defaultFaults(), opts.faults ?? {});
    server.faultsChanged(faults, true);
    return faults;
  };
  const expireTokens = (): void => {
    tokens.revokedBefore = Date.now() + 1;
  };
  const server: EmulatorServer = new EmulatorServer({
    env,
    tls: { key: tls.serverKeyPem, cert: tls.serverCertPem },
    control: {
      token: controlToken,
      faults: () => faults,
      setFaults,
      resetFaults,
      stats: () => stats.snapshot(),
      resetStats: () => stats.reset(),
      expirePageLinks: () => pages.expireAll(),
      expireTokens,
    },
  });
  let port: number;
  try {
    port = await server.listen(opts.port ?? 0);
  } catch (e) {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw e;
  }
  const url = `https://127.0.0.1:${port}`;
  const firstApp = [...model.apps.values()][0]!;
  const firstKey = model.helloid.apiKeys.find((k) => k.enabled) ?? model.helloid.apiKeys[0];

  const clientSettings = (): ClientSettings => ({
    tenantId: model.tenantId,
    organization: model.organization,
    clientId: firstApp.clientId,
    clientSecret: firstApp.secrets[0],
    authorityHost: url,
    adminApiUrl: url,
    helloidBaseUrl: url,
    helloidApiKey: firstKey?.key ?? '',
    helloidApiSecret: firstKey?.secret ?? '',
    caPem: tls.caPem,
    caPath,
  });

  let stopped = false;
  return {
    url,
    port,
    caPath,
    caPem: tls.caPem,
    controlToken,
    tenantId: model.tenantId,
    organization: model.organization,
    state: { exchange: model.exchange, helloid: model.helloid },
    model,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    faults: () => faults,
    setFaults,
    resetFaults,
    expirePageLinks: () => pages.expireAll(),
    expireTokens,
    mintToken: (o = {}) => {
      const app = (o.clientId && model.apps.get(o.clientId.toLowerCase())) || firstApp;
      return tokens.issue(
        {
          clientId: o.clientId ?? app.clientId,
          displayName: app.displayName,
          roles: o.roles ?? app.roles,
          directoryRoles: o.directoryRoles ?? app.directoryRoles,
        },
        o.tenantId ?? model.tenantId,
        o.resource ?? options.entra.acceptedResources[0]!,
        o.lifetimeSeconds ?? faults.tokenLifetimeSeconds,
        false,
      ).token;
    },
    clientSettings,
    env: () => {
      const s = clientSettings();
      const out: Record<string, string> = {};
      if (s.clientSecret) out.OWNERSYNC_CLIENT_SECRET = s.clientSecret;
      out.HELLOID_API_KEY = s.helloidApiKey;
      out.HELLOID_API_SECRET = s.helloidApiSecret;
      out.NODE_EXTRA_CA_CERTS = caPath;
      return out;
    },
    configSnippet: () => configSnippet(clientSettings()),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}

/** ownersync.yaml text for an emulator; secrets stay ${ENV} references. */
export function configSnippet(s: ClientSettings): string {
  const credential = s.clientSecret
    ? '  clientSecret: ${OWNERSYNC_CLIENT_SECRET}'
    : '  # this app has only a certificate registered:\n  certificate: { path: ./app-cert.pem }';
  return [
    `# ownersync.yaml for the emulator at ${s.authorityHost}`,
    `# (trust its CA: export NODE_EXTRA_CA_CERTS=${s.caPath})`,
    'exchange:',
    `  tenantId: ${s.tenantId}`,
    `  organization: ${s.organization}`,
    `  clientId: ${s.clientId}`,
    credential,
    `  authorityHost: ${s.authorityHost}`,
    `  adminApiUrl: ${s.adminApiUrl}`,
    'helloid:',
    `  baseUrl: ${s.helloidBaseUrl}`,
    '  apiKey: ${HELLOID_API_KEY}',
    '  apiSecret: ${HELLOID_API_SECRET}',
    '',
  ].join('\n');
}
