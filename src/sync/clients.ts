/**
 * Builds the real clients from the effective config for the commands: the Exchange
 * and HelloID read sources for `plan`, and the HelloID writer for `apply`. `close()`
 * releases keep-alive sockets so the process exits promptly.
 */
import type { EffectiveConfig } from '../config/types.js';
import { createExchangeClient } from '../exchange/index.js';
import { createHelloIdClient } from '../helloid/index.js';
import type { HelloIdWriteApi } from '../helloid/types.js';
import { closeSharedDispatchers, type HttpClientOptions } from '../http/index.js';
import type { ExchangeSource, HelloIdSource } from './sources.js';

export interface ClientFactoryOptions {
  /** Extra CA to trust (the in-process demo emulator); NODE_EXTRA_CA_CERTS covers the rest. */
  extraCaPem?: string;
  httpOptions?: Omit<HttpClientOptions, 'service'>;
}

export function createSources(cfg: EffectiveConfig, opts: ClientFactoryOptions = {}): { exchange: ExchangeSource; helloid: HelloIdSource; close(): Promise<void> } {
  const common = { ...(opts.extraCaPem ? { caPem: opts.extraCaPem } : {}), ...(opts.httpOptions ? { httpOptions: opts.httpOptions } : {}) };
  const exchange = createExchangeClient(cfg, common);
  const helloid = createHelloIdClient({ helloid: cfg.helloid }, common);
  return { exchange, helloid, close: () => closeSharedDispatchers() };
}

export function createHelloIdWriter(cfg: EffectiveConfig, opts: ClientFactoryOptions = {}): { api: HelloIdWriteApi; close(): Promise<void> } {
  const common = { ...(opts.extraCaPem ? { caPem: opts.extraCaPem } : {}), ...(opts.httpOptions ? { httpOptions: opts.httpOptions } : {}) };
  const api = createHelloIdClient(cfg, common);
  return { api, close: () => closeSharedDispatchers() };
}
