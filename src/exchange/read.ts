/**
 * Wiring from the effective config to a ready ExchangeClient (msal token provider +
 * admin API client). The phases are called by the orchestrator (src/sync/read.ts),
 * which overlaps them with the HelloID reads.
 */
import type { EffectiveConfig } from '../config/types.js';
import { HttpClient, type HttpClientOptions } from '../http/index.js';
import { createEntraAuth, type TokenProvider } from './auth.js';
import { ExchangeClient, type ExchangeClientOptions } from './client.js';

export interface ExchangeSetupOptions {
  /** Extra trusted CA (PEM) for both the token endpoint and the admin API (demo/tests). */
  caPem?: string;
  /** Options for both HTTP clients (timeouts, retries, concurrency, onEvent, sleep …). */
  httpOptions?: Omit<HttpClientOptions, 'service'>;
  /** Ready-made clients/auth instead of the ones built from the config. */
  http?: HttpClient;
  entraHttp?: HttpClient;
  auth?: TokenProvider;
  /** ExchangeClient options (useBatch, batchSize, pageSize, …). */
  client?: Partial<Omit<ExchangeClientOptions, 'http' | 'auth' | 'tenantId' | 'adminApiUrl'>>;
}

/** An ExchangeClient for the config: msal token provider + admin API client. */
export function createExchangeClient(cfg: Pick<EffectiveConfig, 'exchange'>, options: ExchangeSetupOptions = {}): ExchangeClient {
  const httpOptions = { ...options.httpOptions, ...(options.caPem ? { caPem: options.caPem } : {}) };
  const http = options.http ?? new HttpClient({ ...httpOptions, service: 'exchange', hostSetting: 'exchange.adminApiUrl' });
  const auth =
    options.auth ??
    createEntraAuth(cfg, options.entraHttp ? { http: options.entraHttp } : { httpOptions });
  return new ExchangeClient({
    tenantId: cfg.exchange.tenantId,
    adminApiUrl: cfg.exchange.adminApiUrl,
    http,
    auth,
    ...(cfg.exchange.mailboxFilter !== undefined ? { mailboxFilter: cfg.exchange.mailboxFilter } : {}),
    ...options.client,
  });
}
