/**
 * `validate --online` checks for the Exchange side: can we get a token, and does the
 * admin API let this app read shared mailboxes? One cheap call each.
 */
import type { OnlineCheckResult } from '../config/online.js';
import type { EffectiveConfig } from '../config/types.js';
import { createEntraAuth } from './auth.js';
import { ExchangeClient } from './client.js';
import { HttpClient, type HttpClientOptions } from '../http/index.js';

const oneLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

export async function checkExchangeOnline(
  cfg: Pick<EffectiveConfig, 'exchange'>,
  options: { caPem?: string; httpOptions?: Omit<HttpClientOptions, 'service'> } = {},
): Promise<OnlineCheckResult[]> {
  // Fail fast: a validation run should not spend minutes in retries.
  const httpOptions = { maxAttempts: 2, ...options.httpOptions, ...(options.caPem ? { caPem: options.caPem } : {}) };
  let auth;
  try {
    auth = createEntraAuth(cfg, { httpOptions });
    await auth.getToken();
  } catch (err) {
    return [
      { service: 'Entra ID token', ok: false, detail: oneLine(err) },
      { service: 'Exchange Online', ok: false, detail: 'not tried (no token)' },
    ];
  }
  const results: OnlineCheckResult[] = [{ service: 'Entra ID token', ok: true, detail: `app ${cfg.exchange.clientId} signed in to tenant ${cfg.exchange.tenantId}` }];
  try {
    const client = new ExchangeClient({
      tenantId: cfg.exchange.tenantId,
      adminApiUrl: cfg.exchange.adminApiUrl,
      http: new HttpClient({ ...httpOptions, service: 'exchange', hostSetting: 'exchange.adminApiUrl' }),
      auth,
    });
    const first = await client.invokeCommand('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox', ResultSize: 1 });
    results.push({ service: 'Exchange Online', ok: true, detail: `${cfg.exchange.adminApiUrl} answers; shared mailboxes readable (${first.length > 0 ? 'at least one found' : 'none found'})` });
  } catch (err) {
    results.push({ service: 'Exchange Online', ok: false, detail: oneLine(err) });
  }
  return results;
}
