/**
 * `validate --online` checks for the Exchange side: can we get a token, and does the
 * admin API let this app read the shared mailboxes in scope, and how many are there?
 *
 * The mailboxes are counted with the very listing `plan` makes (Get-Mailbox, ResultSize
 * Unlimited, every page): one call per 1,000 mailboxes, so cheap at any tenant size, and
 * it proves exchange.mailboxFilter and paging work. A `ResultSize: 1` probe cannot
 * count, and its reply is cut with a page link that cannot be followed.
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
    const filter = cfg.exchange.mailboxFilter;
    const count = (await client.listMailboxes(filter)).length;
    const scope = filter ? ` matching exchange.mailboxFilter "${filter}"` : '';
    if (count === 0) {
      results.push({ service: 'Exchange Online', ok: false, detail: `${cfg.exchange.adminApiUrl} answers, but the app sees no shared mailboxes${scope}; plan would refuse to run` });
    } else {
      results.push({ service: 'Exchange Online', ok: true, detail: `${cfg.exchange.adminApiUrl} answers; ${count} shared mailbox${count === 1 ? '' : 'es'}${scope} readable` });
    }
  } catch (err) {
    results.push({ service: 'Exchange Online', ok: false, detail: oneLine(err) });
  }
  return results;
}
