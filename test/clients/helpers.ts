/**
 * Shared set-up for the client integration tests: start the emulator, build a config
 * for it, and make clients with a fast (but real, event-loop yielding) sleep so
 * retries and Retry-After do not slow the suite down.
 */
import { fileURLToPath } from 'node:url';
import { start, type Emulator, type StartOptions } from '../../src/emulator/index.js';
import type { EffectiveConfig } from '../../src/config/types.js';
import { createEntraAuth, EntraAuth, ExchangeClient, type ExchangeClientOptions } from '../../src/exchange/index.js';
import { HelloIdClient } from '../../src/helloid/index.js';
import { HttpClient, type HttpClientOptions, type ServiceName } from '../../src/http/index.js';

export const DEMO_FIXTURE = fileURLToPath(new URL('../../examples/demo-tenant.yaml', import.meta.url));

export type TestConfig = Pick<EffectiveConfig, 'exchange' | 'helloid'>;

export async function startEmulator(opts: Partial<StartOptions> = {}): Promise<Emulator> {
  return start({ fixture: DEMO_FIXTURE, ...opts });
}

/** The config a user would write for this emulator. */
export function configFor(emu: Emulator, overrides: Partial<TestConfig['exchange']> = {}): TestConfig {
  const s = emu.clientSettings();
  return {
    exchange: {
      tenantId: s.tenantId,
      clientId: s.clientId,
      ...(s.clientSecret ? { clientSecret: s.clientSecret } : {}),
      environment: 'O365Default',
      authorityHost: s.authorityHost,
      adminApiUrl: s.adminApiUrl,
      expandGroups: true,
      ...overrides,
    },
    helloid: { baseUrl: s.helloidBaseUrl, apiKey: s.helloidApiKey, apiSecret: s.helloidApiSecret },
  };
}

/** Yield to the event loop instead of really waiting. */
export const fastSleep = (): Promise<void> => new Promise((r) => setImmediate(r));

export function http(emu: Emulator, service: ServiceName, extra: Partial<HttpClientOptions> = {}): HttpClient {
  return new HttpClient({ service, caPem: emu.caPem, sleep: fastSleep, ...extra });
}

export function auth(emu: Emulator, cfg: TestConfig, extra: Partial<HttpClientOptions> = {}): EntraAuth {
  // The same wiring the product uses, with a test HTTP client (emulator CA, fast sleep).
  return createEntraAuth(cfg, { http: http(emu, 'entra', extra) });
}

export function exchangeClient(
  emu: Emulator,
  cfg: TestConfig,
  opts: { http?: Partial<HttpClientOptions>; client?: Partial<ExchangeClientOptions>; auth?: EntraAuth } = {},
): { client: ExchangeClient; http: HttpClient; auth: EntraAuth } {
  const h = http(emu, 'exchange', opts.http);
  const a = opts.auth ?? auth(emu, cfg);
  const client = new ExchangeClient({
    tenantId: cfg.exchange.tenantId,
    adminApiUrl: cfg.exchange.adminApiUrl,
    http: h,
    auth: a,
    ...(cfg.exchange.mailboxFilter !== undefined ? { mailboxFilter: cfg.exchange.mailboxFilter } : {}),
    ...opts.client,
  });
  return { client, http: h, auth: a };
}

export function helloIdClient(emu: Emulator, cfg: TestConfig, extra: Partial<HttpClientOptions> = {}, pageSize?: number): { client: HelloIdClient; http: HttpClient } {
  const h = http(emu, 'helloid', extra);
  return {
    client: new HelloIdClient({ ...cfg.helloid, http: h, ...(pageSize !== undefined ? { pageSize } : {}) }),
    http: h,
  };
}

/** Requests the emulator logged, optionally only those of one cmdlet / path fragment. */
export function logged(emu: Emulator, filter: { cmdlet?: string; path?: string; service?: string } = {}): ReturnType<Emulator['stats']>['log'] {
  return emu
    .stats()
    .log.filter(
      (e) =>
        (!filter.cmdlet || e.cmdlet?.toLowerCase() === filter.cmdlet.toLowerCase()) &&
        (!filter.path || e.path.includes(filter.path)) &&
        (!filter.service || e.service === filter.service),
    );
}
