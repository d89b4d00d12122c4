/**
 * The result of one `validate --online` check. The checks themselves (token, Exchange,
 * HelloID) belong to the client modules (exchange/online.ts, helloid/online.ts) and
 * are run by sync/online.ts; config only names the shape, so it depends on none of them.
 */

export interface OnlineCheckResult {
  /** e.g. "Entra ID token", "Exchange Online", "HelloID". */
  service: string;
  ok: boolean;
  /** One line for the user; must not contain secrets. */
  detail: string;
}
