/** `validate --online` check for HelloID: does the API key work? One small read. */
import type { OnlineCheckResult } from '../config/online.js';
import type { EffectiveConfig } from '../config/types.js';
import { HttpClient, type HttpClientOptions } from '../http/index.js';
import { HelloIdClient } from './client.js';

export async function checkHelloIdOnline(
  cfg: Pick<EffectiveConfig, 'helloid'>,
  options: { caPem?: string; httpOptions?: Omit<HttpClientOptions, 'service'> } = {},
): Promise<OnlineCheckResult[]> {
  const http = new HttpClient({ maxAttempts: 2, ...options.httpOptions, ...(options.caPem ? { caPem: options.caPem } : {}), service: 'helloid', hostSetting: 'helloid.baseUrl' });
  const client = new HelloIdClient({ ...cfg.helloid, http, pageSize: 1 });
  try {
    await client.probe();
    return [{ service: 'HelloID', ok: true, detail: `${cfg.helloid.baseUrl} accepts the API key` }];
  } catch (err) {
    return [{ service: 'HelloID', ok: false, detail: (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '' }];
  }
}
