/**
 * Wiring from the effective config to a ready ExchangeClient, and `readExchange`,
 * which reads the whole ExchangeSnapshot in one call (the orchestrator may instead
 * call the phases itself to overlap them with HelloID reads).
 */
import type { ExchangeSnapshot } from '../core/types.js';
import { isEffectiveFullAccess, isSystemTrustee } from '../core/index.js';
import type { EffectiveConfig } from '../config/types.js';
import { OwnersyncError } from '../errors.js';
import { HttpClient, type HttpClientOptions } from '../http/index.js';
import { createEntraAuth, type TokenProvider } from './auth.js';
import { ExchangeClient, type ExchangeClientOptions, type ExchangePhase } from './client.js';

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

export interface ReadExchangeOptions extends ExchangeSetupOptions {
  /** Use this client instead of building one. */
  exchange?: ExchangeClient;
  onProgress?: (phase: ExchangePhase, counts: { done: number; total?: number }) => void;
}

/**
 * Everything ownersync needs from Exchange: in-scope shared mailboxes with their
 * permission rows, all users, and the groups behind group trustees (when
 * `expandGroups`). Zero mailboxes is an error (spec §3.1).
 */
export async function readExchange(cfg: Pick<EffectiveConfig, 'exchange'>, options: ReadExchangeOptions = {}): Promise<ExchangeSnapshot> {
  const client = options.exchange ?? createExchangeClient(cfg, options);
  const progress = options.onProgress ?? (() => {});
  const usersP = client.listUsers();
  usersP.catch(() => {});
  const mailboxes = await client.listMailboxes(cfg.exchange.mailboxFilter);
  progress('mailboxes', { done: mailboxes.length, total: mailboxes.length });
  if (mailboxes.length === 0) {
    const filter = cfg.exchange.mailboxFilter;
    throw new OwnersyncError(
      `Exchange returned zero shared mailboxes${filter ? ` for exchange.mailboxFilter "${filter}"` : ''}; refusing to continue, as an empty scope would look like "every owner left"`,
    );
  }
  const withPermissions = await client.readPermissions(mailboxes, (done, total) => progress('permissions', { done, total }));
  const users = await usersP;
  progress('users', { done: users.length, total: users.length });

  let groups: ExchangeSnapshot['groups'] = [];
  if (cfg.exchange.expandGroups) {
    const upns = new Set(users.map((u) => u.userPrincipalName.toLowerCase()));
    const trustees = new Set<string>();
    for (const m of withPermissions) {
      for (const row of m.permissions ?? []) {
        if (!isEffectiveFullAccess(row) || isSystemTrustee(row.trustee) || row.trustee === '') continue;
        if (!upns.has(row.trustee.toLowerCase())) trustees.add(row.trustee);
      }
    }
    if (trustees.size > 0) {
      progress('groups', { done: 0, total: trustees.size });
      groups = await client.resolveGroups([...trustees].sort());
      progress('groups', { done: groups.length, total: groups.length });
    }
  }
  return { mailboxes: withPermissions, users, groups };
}
