/**
 * The real `validate --online` checks: a token and one cheap Exchange call, and one
 * HelloID call, run side by side. Registered with the config module's hook by the
 * validate command, so config/ stays free of network code.
 */
import type { OnlineCheck } from '../config/online.js';
import { checkExchangeOnline } from '../exchange/index.js';
import { checkHelloIdOnline } from '../helloid/index.js';
import { closeSharedDispatchers, type HttpClientOptions } from '../http/index.js';

/** The checks with extra HTTP options (`validate --online --record` passes its recorder's hook). */
export function onlineCheckWith(httpOptions: Omit<HttpClientOptions, 'service'> = {}): OnlineCheck {
  return async (cfg) => {
    try {
      const [ex, hid] = await Promise.all([checkExchangeOnline(cfg, { httpOptions }), checkHelloIdOnline(cfg, { httpOptions })]);
      return [...ex, ...hid];
    } finally {
      await closeSharedDispatchers();
    }
  };
}

export const onlineCheck: OnlineCheck = onlineCheckWith();
