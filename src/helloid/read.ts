/**
 * Wiring from the effective config to a ready HelloIdClient. The reads are called by the
 * orchestrator (src/sync/read.ts), which overlaps them with the Exchange reads.
 */
import type { EffectiveConfig } from '../config/types.js';
import { HttpClient, type HttpClientOptions } from '../http/index.js';
import { HelloIdClient } from './client.js';

export interface HelloIdSetupOptions {
  /** Extra trusted CA (PEM) (demo/tests). */
  caPem?: string;
  /** HTTP options (timeouts, retries, onEvent, sleep …); maxConcurrency defaults to apply.concurrency when given. */
  httpOptions?: Omit<HttpClientOptions, 'service'>;
  /** A ready-made HTTP client instead. */
  http?: HttpClient;
  pageSize?: number;
}

/** A HelloIdClient for the config. */
export function createHelloIdClient(cfg: Pick<EffectiveConfig, 'helloid'> & Partial<Pick<EffectiveConfig, 'apply'>>, options: HelloIdSetupOptions = {}): HelloIdClient {
  const http =
    options.http ??
    new HttpClient({
      ...(cfg.apply ? { maxConcurrency: cfg.apply.concurrency } : {}),
      ...options.httpOptions,
      ...(options.caPem ? { caPem: options.caPem } : {}),
      service: 'helloid',
      hostSetting: 'helloid.baseUrl',
    });
  return new HelloIdClient({
    baseUrl: cfg.helloid.baseUrl,
    apiKey: cfg.helloid.apiKey,
    apiSecret: cfg.helloid.apiSecret,
    http,
    ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
  });
}
