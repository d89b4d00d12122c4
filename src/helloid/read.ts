/**
 * Wiring from the effective config to a ready HelloIdClient, and a one-call read of
 * users, groups and the members of chosen groups.
 */
import type { HelloIdSnapshot } from '../core/types.js';
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

/**
 * Users and groups, with the members of `memberGroupGuids` read (others stay null).
 * A group whose member read failed gets `members: null` and `memberError`.
 */
export async function readHelloId(
  client: HelloIdClient,
  memberGroupGuids: (groups: HelloIdSnapshot['groups']) => string[] = () => [],
): Promise<HelloIdSnapshot> {
  const [users, groups] = await Promise.all([client.listUsers(), client.listGroups()]);
  const members = await client.readMembers(memberGroupGuids(groups));
  return {
    users,
    groups: groups.map((g) => {
      const m = members.get(g.groupGuid);
      if (m === undefined) return g;
      if (m instanceof Error) return { ...g, members: null, memberError: m.message };
      return { ...g, members: m };
    }),
  };
}
