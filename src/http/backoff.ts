/**
 * When to retry and how long to wait. Backoff is exponential with "full jitter"
 * (a uniformly random delay between 0 and the exponential cap), which spreads a
 * crowd of throttled requests better than a fixed or equal-jitter delay; see
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/.
 */

/** Full-jitter delay before retry number `retry` (1 = first retry). */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * cap);
}

/** Error codes of transient network failures: the request may succeed if sent again. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** TLS verification failures: permanent until someone fixes the trust store. */
const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);

/** The most specific error code on an error or its cause chain. */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  let first: string | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      // Prefer a system/TLS code (ECONNRESET) over undici's wrapper code when both exist.
      if (!code.startsWith('UND_ERR_')) return code;
      first ??= code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return first;
}

/** Whether a thrown network error is worth another attempt. */
export function isTransientNetworkError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A readable description of a network failure, with a hint where one helps. */
export function describeNetworkError(err: unknown, timeouts: { headersMs: number; bodyMs: number; connectMs: number }, hostSetting?: string): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      return `no response headers within ${timeouts.headersMs} ms (${code})`;
    case 'UND_ERR_BODY_TIMEOUT':
      return `response body stalled for ${timeouts.bodyMs} ms (${code})`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `could not connect within ${timeouts.connectMs} ms (${code})`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      // A bare ENOTFOUND names neither the setting nor the usual cause on company networks.
      return (
        `the host name could not be resolved (${code})` +
        (hostSetting ? `; check ${hostSetting} in the configuration` : '') +
        '. If this network reaches the internet through a proxy, set HTTPS_PROXY (and NO_PROXY for hosts reached directly)'
      );
    default:
      if (code && TLS_TRUST_CODES.has(code)) {
        return `TLS certificate not trusted (${code}: ${message}); if a proxy or private CA signs it, point NODE_EXTRA_CA_CERTS at that CA's PEM file`;
      }
      return code ? `${code} (${message})` : message;
  }
}
