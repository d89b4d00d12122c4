/**
 * Options of the HTTP client and of single requests, with their defaults, plus the
 * event and statistics shapes the client reports for progress output and benchmarks.
 */
import type { Dispatcher } from 'undici';
import type { LimiterMode, Priority } from './limiter.js';

export type ServiceName = 'entra' | 'exchange' | 'helloid';

export interface HttpClientOptions {
  /** Which service this client talks to; named in errors, events and stats. */
  service: ServiceName;
  /** Attempts per request, the first one included. @default 6 */
  maxAttempts?: number;
  /** TCP + TLS connect timeout. @default 30000 */
  connectTimeoutMs?: number;
  /** Time allowed until the response headers arrive. @default 30000 */
  headersTimeoutMs?: number;
  /** Longest pause allowed between two chunks of the response body. @default 60000 */
  bodyTimeoutMs?: number;
  /** First backoff cap; doubles each retry (full jitter below the cap). @default 1000 */
  retryBaseDelayMs?: number;
  /** Largest backoff cap. @default 30000 */
  retryMaxDelayMs?: number;
  /** Retry-After is authoritative, but a longer wait than this is cut to this. @default 60000 */
  maxRetryAfterMs?: number;
  /** Statuses retried (with the request unchanged). @default [408, 429, 500, 502, 503, 504] */
  retryStatuses?: readonly number[];
  /** Maximum number of concurrent requests (and the starting number unless initialConcurrency is set); adapts down on 429. @default 8 */
  maxConcurrency?: number;
  /** Concurrent requests to start with; the limit grows towards maxConcurrency while requests wait. @default maxConcurrency */
  initialConcurrency?: number;
  /** Successes in a row before the concurrency limit grows back by one. @default 10 */
  increaseAfter?: number;
  /**
   * How a 429 lowers the concurrency limit: 'halve' (AIMD) or 'probe' (step back below
   * the refused level and settle there; see limiter.ts). @default 'halve'
   */
  concurrencyMode?: LimiterMode;
  /** 'probe' mode: successes before a refused concurrency level is tried again (doubles each time). @default 200 */
  probeInterval?: number;
  /**
   * The configuration key that names this client's host (e.g. `helloid.baseUrl`). A
   * host that does not resolve is reported with it, so the message says what to fix.
   * The HTTP layer knows no service or config; its callers name the key.
   */
  hostSetting?: string;
  /** Extra trusted CA (PEM), on top of Node's default store (tests, demo emulator). */
  caPem?: string;
  /** Use this dispatcher instead of the shared pool (advanced; tests). */
  dispatcher?: Dispatcher;
  /** Headers sent with every request (a request's own headers win). */
  headers?: Record<string, string>;
  /** Wait function, injectable so tests need not really wait. @default abortable setTimeout */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Random source in [0, 1) for jitter. @default Math.random */
  random?: () => number;
  /** Clock for HTTP-date Retry-After values. @default Date.now */
  now?: () => number;
  /** Told about requests, responses, retries and limit changes. Must not throw. */
  onEvent?: (event: HttpEvent) => void;
  /**
   * Told about every attempt's full exchange (for `--record`). It gets the raw request
   * headers and bodies: the receiver decides what may be kept. Must not throw.
   */
  onExchange?: (exchange: HttpExchange) => void;
}

/** One attempt, as `onExchange` sees it: raw, credentials included, never printed by src/http. */
export interface HttpExchange {
  service: ServiceName;
  method: string;
  /** The requested URL, unsanitised. */
  url: string;
  /** Lower-case names. */
  requestHeaders: Record<string, string>;
  requestBody?: string;
  /** Absent when the attempt ended in a network error (then `error` is set). */
  status?: number;
  /** Lower-case names. */
  responseHeaders: Record<string, string>;
  responseBody: string;
  /** e.g. ECONNRESET, when no response came. */
  error?: string;
  attempt: number;
  durationMs: number;
}

export interface RequestOptions {
  /** @default 'GET' */
  method?: string;
  headers?: Record<string, string>;
  /** Raw body. */
  body?: string;
  /** Serialised as the JSON body, with `content-type: application/json`. */
  json?: unknown;
  /** Names the operation in errors, e.g. the cmdlet `Get-MailboxPermission`. */
  label?: string;
  /** Override the client's retryable statuses for this call. */
  retryStatuses?: readonly number[];
  /**
   * Also retry a response this says is transient (e.g. a service that reports "busy" as
   * a 400 with a particular error body), with the same backoff as the retry statuses.
   * The caller knows its service; this layer does not. Must not throw.
   */
  retryable?: (res: { status: number; headers: Record<string, string>; text: string }) => boolean;
  /** Override the client's attempts for this call. */
  maxAttempts?: number;
  /**
   * 'high' for a request others wait on one at a time (the next page of a listing):
   * it gets the next free slot before queued 'normal' fan-out reads. @default 'normal'
   */
  priority?: Priority;
  /**
   * Non-2xx statuses the caller handles itself: returned, not thrown (after any
   * retries). Example: HelloID's 404 on removing a non-member.
   */
  acceptStatuses?: readonly number[] | ((status: number) => boolean);
  signal?: AbortSignal;
  /**
   * Called once, holding a concurrency slot, just before the first attempt is sent; when
   * it throws, nothing is sent and the error is the request's. Apply journals a write's
   * intent here: a request still waiting for a slot has not been sent, and must not
   * look as if it might have been.
   */
  beforeFirstSend?: () => Promise<void> | void;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The response body as text. */
  text: string;
  /** The requested URL (unsanitised: for the caller's own use only). */
  url: string;
  /** Attempts it took. */
  attempts: number;
  /** Parses `text`; throws an HttpError naming method and URL when it is not JSON. */
  json<T = unknown>(): T;
}

interface EventBase {
  service: ServiceName;
  method: string;
  /** Safe to print (credentials stripped). */
  url: string;
  label?: string;
  attempt: number;
}

export type HttpEvent =
  | (EventBase & { type: 'request'; inFlight: number })
  | (EventBase & { type: 'response'; status: number; durationMs: number })
  | (EventBase & { type: 'network-error'; code?: string; durationMs: number })
  | (EventBase & { type: 'retry'; reason: string; delayMs: number; retryAfter: boolean })
  | (EventBase & { type: 'give-up'; reason: string })
  | { type: 'limit'; service: ServiceName; limit: number; direction: 'decrease' | 'increase' };

export interface HttpStats {
  service: ServiceName;
  /** Requests sent (each attempt counts). */
  requests: number;
  /** Retries scheduled. */
  retries: number;
  /** 429 responses seen. */
  throttled: number;
  /** Other retryable statuses (5xx, 408) seen. */
  serverErrors: number;
  /** Network failures (resets, timeouts). */
  networkErrors: number;
  /** Requests given up on (thrown). */
  failures: number;
  inFlight: number;
  maxInFlight: number;
  /** Current adaptive concurrency limit. */
  concurrencyLimit: number;
  /** Lowest concurrency limit reached. */
  minConcurrencyLimit: number;
  maxConcurrency: number;
}
