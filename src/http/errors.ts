/**
 * The one error type of the HTTP layer. Its message names the method, the URL
 * (credentials stripped, see safe-url.ts), the cmdlet or operation when the caller
 * gave a label, and what went wrong — never request headers or bodies. A short
 * excerpt of the response body may follow, after `redact()`, because that is
 * usually where the service says why (e.g. Exchange's "couldn't be found").
 */
import { STATUS_CODES } from 'node:http';
import { OwnersyncError } from '../errors.js';
import { redact } from '../redact.js';

export interface HttpErrorInit {
  service: string;
  method: string;
  /** Already made safe with safeUrl(). */
  url: string;
  label?: string;
  attempts: number;
  /** HTTP status, when a response was received. */
  status?: number;
  /** Error code of a network failure (ECONNRESET, UND_ERR_HEADERS_TIMEOUT, …). */
  code?: string;
  /** Human description of a network failure or other problem. */
  detail?: string;
  /** Full response body (kept out of the message except for a redacted excerpt). */
  responseBody?: string;
  /**
   * The service's own words for the failure, read from the body by the caller (e.g.
   * HelloID's `message`): shown instead of the raw body excerpt; '' shows nothing.
   */
  reason?: string;
  cause?: unknown;
}

const EXCERPT_LENGTH = 300;

/** First few hundred characters of a body, whitespace collapsed, secrets redacted. */
export function bodyExcerpt(body: string | undefined): string | undefined {
  if (!body) return undefined;
  // Redact the whole body before cutting: a secret straddling the cut would no longer
  // match its registered value, and its first half would be printed.
  const flat = redact(body).replace(/\s+/g, ' ').trim();
  if (flat === '') return undefined;
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH)}…` : flat;
}

export class HttpError extends OwnersyncError {
  readonly service: string;
  readonly method: string;
  readonly url: string;
  readonly label?: string;
  readonly attempts: number;
  readonly status?: number;
  readonly code?: string;
  /** Full response body; non-enumerable so it does not show up when the error is logged or serialised. */
  declare readonly responseBody?: string;

  constructor(init: HttpErrorInit) {
    const what = `${init.method} ${init.url}${init.label ? ` (${init.label})` : ''}`;
    let why: string;
    if (init.status !== undefined) {
      why = `${init.status} ${STATUS_CODES[init.status] ?? 'Unknown Status'}`;
    } else {
      // `detail` already carries the code where it helps (see describeNetworkError).
      why = init.detail ?? init.code ?? 'request failed';
    }
    const tries = init.attempts > 1 ? ` after ${init.attempts} attempts` : '';
    let tail = '';
    if (init.status !== undefined && init.reason !== undefined) {
      const reason = bodyExcerpt(init.reason);
      if (reason) tail = ` — ${reason}`;
    } else if (init.status !== undefined) {
      const excerpt = bodyExcerpt(init.responseBody);
      if (excerpt) tail = ` — response: ${excerpt}`;
    }
    const message = `${what} failed: ${why}${tries}${tail}`;
    super(redact(message), undefined, init.cause === undefined ? undefined : { cause: init.cause });
    this.service = init.service;
    this.method = init.method;
    this.url = init.url;
    if (init.label !== undefined) this.label = init.label;
    this.attempts = init.attempts;
    if (init.status !== undefined) this.status = init.status;
    if (init.code !== undefined) this.code = init.code;
    Object.defineProperty(this, 'responseBody', { value: init.responseBody, enumerable: false });
  }
}
