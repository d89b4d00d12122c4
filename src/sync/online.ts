/**
 * The real `validate --online` checks: a token and one cheap Exchange call, and one
 * HelloID call, run side by side. Registered with the config module's hook by the
 * validate command, so config/ stays free of network code.
 */
import type { OnlineCheck } from '../config/online.js';
import { checkExchangeOnline } from '../exchange/index.js';
import { checkHelloIdOnline } from '../helloid/index.js';
import { closeSharedDispatchers } from '../http/index.js';

export const onlineCheck: OnlineCheck = async (cfg) => {
  try {
    const [ex, hid] = await Promise.all([checkExchangeOnline(cfg), checkHelloIdOnline(cfg)]);
    return [...ex, ...hid];
  } finally {
    await closeSharedDispatchers();
  }
};
