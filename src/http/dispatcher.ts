/**
 * The undici dispatcher (connection pool) behind every HttpClient: one keep-alive
 * pool per distinct TLS/proxy setup, shared by all services in the process.
 *
 * Trust: without an explicit CA we pass no `ca` at all, so Node's default store is
 * used — the bundled roots plus NODE_EXTRA_CA_CERTS. Passing `ca` *replaces* that
 * store, so when a test or the demo supplies an extra CA we rebuild it by hand:
 * bundled roots + the NODE_EXTRA_CA_CERTS file + the extra CA.
 *
 * Proxy: HTTPS_PROXY / https_proxy (and HTTP_PROXY) with NO_PROXY are honoured via
 * undici's EnvHttpProxyAgent, which re-reads NO_PROXY on each request. Through a
 * proxy, TLS to the target is configured by `requestTls`, not `connect`.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { registerSecret } from '../redact.js';

export interface DispatcherOptions {
  /** An extra trusted CA (PEM), added to Node's default trust store. */
  caPem?: string;
  /** TCP + TLS connect timeout. @default 30000 */
  connectTimeoutMs?: number;
  /** How long an idle keep-alive socket is kept. @default 10000 */
  keepAliveTimeoutMs?: number;
}

const pools = new Map<string, Dispatcher>();

function proxyEnv(): { http?: string; https?: string } {
  const https = process.env.https_proxy ?? process.env.HTTPS_PROXY;
  const http = process.env.http_proxy ?? process.env.HTTP_PROXY;
  return { ...(https ? { https } : {}), ...(http ? { http } : {}) };
}

/** The CA list to pass when an extra CA is given; undefined means "Node's defaults". */
export function trustedCas(caPem: string | undefined): string[] | undefined {
  if (!caPem) return undefined;
  const cas = [...rootCertificates];
  const extraFile = process.env.NODE_EXTRA_CA_CERTS;
  if (extraFile) {
    try {
      cas.push(readFileSync(extraFile, 'utf8'));
    } catch {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; do the same (silently).
    }
  }
  cas.push(caPem);
  return cas;
}

function registerProxyCredentials(proxy: string | undefined): void {
  if (!proxy) return;
  try {
    const u = new URL(proxy);
    if (u.password) registerSecret(decodeURIComponent(u.password));
  } catch {
    // not a URL: undici will say so when used
  }
}

/** The shared dispatcher for these options and the current proxy environment. */
export function sharedDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const proxies = proxyEnv();
  const connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 10_000;
  const key = JSON.stringify([options.caPem ?? '', connectTimeoutMs, keepAliveTimeout, proxies.https ?? '', proxies.http ?? '']);
  const existing = pools.get(key);
  if (existing) return existing;

  const ca = trustedCas(options.caPem);
  const tls = { timeout: connectTimeoutMs, ...(ca ? { ca } : {}) };
  let dispatcher: Dispatcher;
  if (proxies.https || proxies.http) {
    registerProxyCredentials(proxies.https);
    registerProxyCredentials(proxies.http);
    dispatcher = new EnvHttpProxyAgent({
      keepAliveTimeout,
      connect: tls,
      requestTls: tls,
      proxyTls: { timeout: connectTimeoutMs },
    });
  } else {
    dispatcher = new Agent({ keepAliveTimeout, connect: tls });
  }
  pools.set(key, dispatcher);
  return dispatcher;
}

/** Close every shared pool (end of a CLI run, end of a test file). */
export async function closeSharedDispatchers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((d) => d.close().catch(() => undefined)));
}
