/**
 * Builds the real clients from the effective config for the commands: the Exchange
 * and HelloID read sources for `plan`, and the HelloID writer for `apply`. `close()`
 * releases keep-alive sockets so the process exits promptly.
 *
 * Concurrency: neither service publishes a limit, and round trips are what a plan
 * costs at scale, so the read clients start at 8 requests in flight per service (the
 * old fixed setting) and probe upwards, one at a time and only while requests are
 * queuing, to at most 16; a 429 on a probe settles the limit one below the refused
 * level (see http/limiter.ts 'probe'). The writer keeps apply.concurrency as both its
 * start and its ceiling: that number is the admin's.
 */
import type { EffectiveConfig } from '../config/types.js';
import { createExchangeClient } from '../exchange/index.js';
import { createHelloIdClient } from '../helloid/index.js';
import type { HelloIdWriteApi } from '../helloid/types.js';
import { closeSharedDispatchers, type HttpClientOptions } from '../http/index.js';
import type { ExchangeSource, HelloIdSource } from './sources.js';

/** Concurrency of the read clients (per service), see the header. */
export const READ_CONCURRENCY = { initial: 8, max: 16 } as const;

export interface ClientFactoryOptions {
  /** Extra CA to trust (the in-process demo emulator); NODE_EXTRA_CA_CERTS covers the rest. */
  extraCaPem?: string;
  /** HTTP options; what is given here wins over the defaults above. */
  httpOptions?: Omit<HttpClientOptions, 'service'>;
}

function setupOptions(opts: ClientFactoryOptions, httpOptions: Omit<HttpClientOptions, 'service'>): { caPem?: string; httpOptions: Omit<HttpClientOptions, 'service'> } {
  return { ...(opts.extraCaPem ? { caPem: opts.extraCaPem } : {}), httpOptions };
}

export function createSources(cfg: EffectiveConfig, opts: ClientFactoryOptions = {}): { exchange: ExchangeSource; helloid: HelloIdSource; close(): Promise<void> } {
  const httpOptions: Omit<HttpClientOptions, 'service'> = {
    maxConcurrency: READ_CONCURRENCY.max,
    initialConcurrency: READ_CONCURRENCY.initial,
    concurrencyMode: 'probe',
    ...opts.httpOptions,
  };
  const common = setupOptions(opts, httpOptions);
  const exchange = createExchangeClient(cfg, common);
  const helloid = createHelloIdClient({ helloid: cfg.helloid }, common);
  return { exchange, helloid, close: () => closeSharedDispatchers() };
}

export function createHelloIdWriter(cfg: EffectiveConfig, opts: ClientFactoryOptions = {}): { api: HelloIdWriteApi; close(): Promise<void> } {
  // maxConcurrency comes from apply.concurrency (createHelloIdClient) unless given here.
  const httpOptions: Omit<HttpClientOptions, 'service'> = { concurrencyMode: 'probe', ...opts.httpOptions };
  const api = createHelloIdClient(cfg, setupOptions(opts, httpOptions));
  return { api, close: () => closeSharedDispatchers() };
}
