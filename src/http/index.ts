/** The HTTP layer: undici client with retries, adaptive concurrency, proxy and CA support. */
export { HttpClient, DEFAULT_RETRY_STATUSES } from './client.js';
export { HttpError, bodyExcerpt } from './errors.js';
export { AdaptiveLimiter, type LimiterMode, type LimiterOptions, type Outcome, type Permit, type Priority } from './limiter.js';
export { sharedDispatcher, closeSharedDispatchers, trustedCas, type DispatcherOptions } from './dispatcher.js';
export { parseRetryAfter, retryAfterMs } from './retry-after.js';
export { backoffDelay, isTransientNetworkError, errorCode } from './backoff.js';
export { safeUrl } from './safe-url.js';
export type { HttpClientOptions, RequestOptions, HttpResponse, HttpEvent, HttpExchange, HttpStats, ServiceName } from './options.js';
