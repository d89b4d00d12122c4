/**
 * How the Exchange admin API fails, and how ownersync says so (docs/wire-formats.md,
 * "Errors"): nearly every cmdlet failure is an HTTP 400 whose `error.message` is the
 * useless "Invalid Operation"; the exception text and type inside the body are what
 * an administrator needs. An ExchangeApiError carries them in its message instead of
 * a raw JSON excerpt, and lets the client tell "not found", "busy, try again" and
 * "page link expired" apart by the exception type rather than by the status.
 */
import { OwnersyncError } from '../errors.js';
import { HttpError } from '../http/index.js';
import { serviceErrorText, serviceException, type ServiceException } from './wire.js';

/** A failed admin API call: method, URL, cmdlet, status, attempts, then the service's words. */
export class ExchangeApiError extends OwnersyncError {
  readonly status: number;
  readonly attempts: number;
  /** The cmdlet exception of the body, when it had one. */
  readonly exception?: ServiceException;

  constructor(err: HttpError & { status: number }) {
    // HttpError's own wording, without its raw excerpt of the body.
    const { service, method, url, label, attempts, status } = err;
    const head = new HttpError({ service, method, url, attempts, status, ...(label !== undefined ? { label } : {}) }).message;
    const why = serviceErrorText(err.responseBody);
    super(why ? `${head} — ${why}` : head, undefined, { cause: err });
    this.status = status;
    this.attempts = attempts;
    const ex = serviceException(err.responseBody);
    if (ex) this.exception = ex;
  }
}

/** An HttpError that got a reply becomes an ExchangeApiError; anything else is left as it is. */
export function toExchangeError(err: unknown): unknown {
  return err instanceof HttpError && err.status !== undefined ? new ExchangeApiError(err as HttpError & { status: number }) : err;
}

const NOT_FOUND_TYPE = /ManagementObjectNotFoundException/i;

/**
 * Whether the admin API said the object does not exist: a 400 whose exception type is
 * ManagementObjectNotFoundException (graph2otel internal/exoclient/errors.go); a 404
 * is accepted too, as older replies and proxies have used it.
 */
export function isNotFound(err: unknown): boolean {
  if (!(err instanceof ExchangeApiError)) return false;
  if (err.status === 404) return true;
  return err.status === 400 && NOT_FOUND_TYPE.test(err.exception?.type ?? '');
}

/** Whether an error is the admin API's "Expired or Invalid pagination request". */
export function isExpiredPageLink(err: unknown): boolean {
  return err instanceof ExchangeApiError && err.status === 400 && /expired or invalid pagination/i.test(err.exception?.message ?? '');
}

/**
 * Exception types of transient failures that arrive as HTTP 400; live clients retry
 * exactly these (jflieben/M365Permissions ExchangeRestClient.cs).
 */
const TRANSIENT_TYPES = /ServerBusyException|TransientException|BackendCommunicationException|CmdletProxyNotAvailableFailure/i;

/** Whether an exception type names a transient failure (retry it like a 503). */
export function isTransientType(type: string | undefined): boolean {
  return type !== undefined && TRANSIENT_TYPES.test(type);
}

/** The `retryable` predicate of every admin API request: a 400 carrying a transient exception type. */
export function isTransientReply(res: { status: number; text: string }): boolean {
  return res.status === 400 && isTransientType(serviceException(res.text)?.type);
}

/**
 * 403 from the admin API: the app has Exchange.ManageAsApp but no Entra directory role
 * (its body is then a run of NUL bytes, not JSON, so there is nothing else to quote).
 */
export function explainAccess(err: unknown, tenantId: string): unknown {
  if (err instanceof ExchangeApiError && err.status === 403) {
    return new OwnersyncError(
      `${err.message} — the app is not allowed to run this cmdlet in tenant ${tenantId}; assign it an Entra role that can read Exchange (e.g. Global Reader or Exchange Administrator) in Entra ID > Roles and administrators`,
      undefined,
      { cause: err },
    );
  }
  return err;
}

/** A one-line reason for a recorded (non-fatal) failure. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
