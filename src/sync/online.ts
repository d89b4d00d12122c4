/**
 * The `validate --online` checks: a token and one cheap Exchange call, and one HelloID
 * call, run side by side; with --record, every exchange goes into a transcript. Lives
 * here, not in config/, so config stays free of network code.
 */
import type { OnlineCheckResult } from '../config/online.js';
import type { EffectiveConfig } from '../config/types.js';
import { checkExchangeOnline } from '../exchange/index.js';
import { checkHelloIdOnline } from '../helloid/index.js';
import { closeSharedDispatchers } from '../http/index.js';
import { openRecorder } from '../transcript/recorder.js';

export interface CheckOnlineOptions {
  /** `--record FILE` (and `--record-raw`): write a transcript of every exchange. */
  record?: { file: string; raw: boolean; toolVersion: string; warn: (line: string) => void };
}

export type OnlineCheck = (cfg: EffectiveConfig, options?: CheckOnlineOptions) => Promise<OnlineCheckResult[]>;

/** Run every check; a failed check is a result with ok false, not a throw. */
export const checkOnline: OnlineCheck = async (cfg, options = {}) => {
  const r = options.record;
  const recorder = r ? openRecorder(r.file, cfg, { command: 'validate --online', toolVersion: r.toolVersion, raw: r.raw }, r.warn) : undefined;
  const httpOptions = recorder ? { onExchange: recorder.hook } : {};
  try {
    const [ex, hid] = await Promise.all([checkExchangeOnline(cfg, { httpOptions }), checkHelloIdOnline(cfg, { httpOptions })]);
    return [...ex, ...hid];
  } finally {
    await closeSharedDispatchers();
    recorder?.close();
  }
};
