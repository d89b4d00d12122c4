/**
 * HttpClient: one per service (Entra ID, Exchange, HelloID). Sends a request over
 * the shared undici pool, within the service's adaptive concurrency limit, and
 * retries what is worth retrying:
 *
 *  - the statuses in `retryStatuses` (429 and 5xx by default), honouring
 *    Retry-After when present — it is authoritative, only capped at maxRetryAfterMs;
 *  - responses a request's own `retryable` predicate calls transient (the caller's
 *    service knowledge, e.g. Exchange's "server busy" 400s), with the same backoff;
 *  - transient network failures (resets, refused connections, timeouts).
 *
 * Every read ownersync makes is safe to repeat, and its HelloID writes are
 * idempotent, so POST is retried like GET. A slot is given back while waiting to
 * retry, so a backing-off request does not block others.
 *
 * Whatever is given up on becomes an HttpError naming method, URL and status.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { backoffDelay, describeNetworkError, errorCode, isTransientNetworkError } from './backoff.js';
import { sharedDispatcher } from './dispatcher.js';
import { HttpError } from './errors.js';
import { AdaptiveLimiter, type Outcome } from './limiter.js';
import { retryAfterMs } from './retry-after.js';
import { safeUrl } from './safe-url.js';
import type { HttpClientOptions, HttpEvent, HttpExchange, HttpResponse, HttpStats, RequestOptions, ServiceName } from './options.js';

export const DEFAULT_RETRY_STATUSES: readonly number[] = [408, 429, 500, 502, 503, 504];

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> => delay(ms, undefined, signal ? { signal } : {});

function normaliseHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export class HttpClient {
  readonly service: ServiceName;
  private readonly maxAttempts: number;
  private readonly headersTimeoutMs: number;
  private readonly bodyTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly hostSetting: string | undefined;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly retryStatuses: readonly number[];
  private readonly dispatcher: Dispatcher;
  private readonly defaultHeaders: Record<string, string>;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly onEvent: ((event: HttpEvent) => void) | undefined;
  private readonly onExchange: ((exchange: HttpExchange) => void) | undefined;
  private readonly limiter: AdaptiveLimiter;
  private readonly counters = { requests: 0, retries: 0, throttled: 0, serverErrors: 0, networkErrors: 0, failures: 0 };

  constructor(options: HttpClientOptions) {
    this.service = options.service;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 6);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
    this.hostSetting = options.hostSetting;
    this.headersTimeoutMs = options.headersTimeoutMs ?? 30_000;
    this.bodyTimeoutMs = options.bodyTimeoutMs ?? 60_000;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1_000;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 30_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.retryStatuses = options.retryStatuses ?? DEFAULT_RETRY_STATUSES;
    this.dispatcher =
      options.dispatcher ??
      sharedDispatcher({ connectTimeoutMs: this.connectTimeoutMs, ...(options.caPem ? { caPem: options.caPem } : {}) });
    this.defaultHeaders = { 'user-agent': 'ownersync', ...lowerKeys(options.headers ?? {}) };
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.onEvent = options.onEvent;
    this.onExchange = options.onExchange;
    this.limiter = new AdaptiveLimiter({
      max: options.maxConcurrency ?? 8,
      ...(options.initialConcurrency !== undefined ? { initial: options.initialConcurrency } : {}),
      increaseAfter: options.increaseAfter ?? 10,
      ...(options.concurrencyMode !== undefined ? { mode: options.concurrencyMode } : {}),
      ...(options.probeInterval !== undefined ? { probeInterval: options.probeInterval } : {}),
      onChange: (limit, direction) => this.emit({ type: 'limit', service: this.service, limit, direction }),
    });
  }

  /** Counters since the client was made. */
  stats(): HttpStats {
    return {
      service: this.service,
      ...this.counters,
      inFlight: this.limiter.inFlight,
      maxInFlight: this.limiter.maxInFlight,
      concurrencyLimit: this.limiter.limit,
      minConcurrencyLimit: this.limiter.minLimit,
      maxConcurrency: this.limiter.max,
    };
  }

  /** GET/POST/… with retries; resolves for 2xx and accepted statuses, else throws HttpError. */
  async request(url: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
    const method = (options.method ?? 'GET').toUpperCase();
    const href = String(url);
    const printable = safeUrl(href);
    const label = options.label;
    const maxAttempts = Math.max(1, options.maxAttempts ?? this.maxAttempts);
    const retryStatuses = options.retryStatuses ?? this.retryStatuses;
    const accept = options.acceptStatuses;
    const isAccepted = (s: number): boolean =>
      (s >= 200 && s < 300) || (typeof accept === 'function' ? accept(s) : (accept?.includes(s) ?? false));

    const headers: Record<string, string> = { ...this.defaultHeaders, ...lowerKeys(options.headers ?? {}) };
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const base = { service: this.service, method, url: printable, ...(label ? { label } : {}) };

    for (let attempt = 1; ; attempt++) {
      const permit = await this.limiter.acquire(options.signal, options.priority);
      if (attempt === 1 && options.beforeFirstSend) {
        try {
          await options.beforeFirstSend();
        } catch (err) {
          this.limiter.release(permit, 'neutral');
          throw err;
        }
      }
      this.counters.requests++;
      this.emit({ type: 'request', ...base, attempt, inFlight: this.limiter.inFlight });
      const started = this.now();
      let outcome: Outcome = 'neutral';
      let status: number | undefined;
      let resHeaders: Record<string, string> = {};
      let text = '';
      let failure: unknown;
      try {
        const res = await request(href, {
          method: method as Dispatcher.HttpMethod,
          headers,
          body,
          dispatcher: this.dispatcher,
          headersTimeout: this.headersTimeoutMs,
          bodyTimeout: this.bodyTimeoutMs,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        status = res.statusCode;
        resHeaders = normaliseHeaders(res.headers);
        text = await res.body.text();
        // 5xx says nothing about our pace, so it neither grows nor shrinks the limit.
        outcome = status === 429 ? 'throttled' : status < 500 ? 'success' : 'neutral';
        this.emit({ type: 'response', ...base, attempt, status, durationMs: this.now() - started });
        this.tell({ service: this.service, method, url: href, requestHeaders: headers, ...(body !== undefined ? { requestBody: body } : {}), status, responseHeaders: resHeaders, responseBody: text, attempt, durationMs: this.now() - started });
      } catch (err) {
        failure = err;
        status = undefined;
        this.counters.networkErrors++;
        const code = errorCode(err);
        this.emit({ type: 'network-error', ...base, attempt, ...(code ? { code } : {}), durationMs: this.now() - started });
        this.tell({ service: this.service, method, url: href, requestHeaders: headers, ...(body !== undefined ? { requestBody: body } : {}), responseHeaders: {}, responseBody: '', error: code ?? 'network error', attempt, durationMs: this.now() - started });
      } finally {
        this.limiter.release(permit, outcome);
      }

      if (options.signal?.aborted) throw options.signal.reason;

      if (status !== undefined) {
        if (status === 429) this.counters.throttled++;
        const retryable = retryStatuses.includes(status) || (status >= 300 && options.retryable !== undefined && options.retryable({ status, headers: resHeaders, text }));
        if (retryable && status !== 429) this.counters.serverErrors++;
        if (retryable && attempt < maxAttempts) {
          const hinted = retryAfterMs(resHeaders, this.now());
          await this.waitBeforeRetry(base, attempt, String(status), hinted, options.signal);
          continue;
        }
        if (isAccepted(status)) return this.response(status, resHeaders, text, href, attempt, method, printable, label);
        this.counters.failures++;
        this.emit({ type: 'give-up', ...base, attempt, reason: String(status) });
        throw new HttpError({
          service: this.service,
          method,
          url: printable,
          attempts: attempt,
          status,
          responseBody: text,
          ...(label ? { label } : {}),
        });
      }

      const code = errorCode(failure);
      if (isTransientNetworkError(failure) && attempt < maxAttempts) {
        await this.waitBeforeRetry(base, attempt, code ?? 'network error', undefined, options.signal);
        continue;
      }
      this.counters.failures++;
      this.emit({ type: 'give-up', ...base, attempt, reason: code ?? 'network error' });
      throw new HttpError({
        service: this.service,
        method,
        url: printable,
        attempts: attempt,
        ...(code ? { code } : {}),
        detail: describeNetworkError(failure, {
          headersMs: this.headersTimeoutMs,
          bodyMs: this.bodyTimeoutMs,
          connectMs: this.connectTimeoutMs,
        }, this.hostSetting),
        cause: failure,
        ...(label ? { label } : {}),
      });
    }
  }

  /** Convenience: request and parse JSON. */
  async json<T = unknown>(url: string | URL, options: RequestOptions = {}): Promise<T> {
    return (await this.request(url, options)).json<T>();
  }

  private async waitBeforeRetry(
    base: { method: string; url: string; label?: string; service: ServiceName },
    attempt: number,
    reason: string,
    hintedMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    // Retry-After is authoritative when present; otherwise exponential backoff with full jitter.
    const delayMs =
      hintedMs !== undefined
        ? Math.min(hintedMs, this.maxRetryAfterMs)
        : backoffDelay(attempt, this.retryBaseDelayMs, this.retryMaxDelayMs, this.random);
    this.counters.retries++;
    this.emit({ type: 'retry', ...base, attempt, reason, delayMs, retryAfter: hintedMs !== undefined });
    await this.sleep(delayMs, signal);
  }

  private response(
    status: number,
    headers: Record<string, string>,
    text: string,
    url: string,
    attempts: number,
    method: string,
    printable: string,
    label: string | undefined,
  ): HttpResponse {
    const service = this.service;
    return {
      status,
      headers,
      text,
      url,
      attempts,
      json<T>(): T {
        try {
          return JSON.parse(text) as T;
        } catch (err) {
          throw new HttpError({
            service,
            method,
            url: printable,
            attempts,
            detail: `${status} response is not valid JSON`,
            cause: err,
            ...(label ? { label } : {}),
          });
        }
      },
    };
  }

  private tell(exchange: HttpExchange): void {
    if (!this.onExchange) return;
    try {
      this.onExchange(exchange);
    } catch {
      // A faulty recorder must not break a sync.
    }
  }

  private emit(event: HttpEvent): void {
    if (!this.onEvent) return;
    try {
      this.onEvent(event);
    } catch {
      // A faulty progress hook must not break a sync.
    }
  }
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
