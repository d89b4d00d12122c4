/**
 * Per-cloud endpoints and the duration syntax of `plan.expiresAfter`. Key defaults
 * themselves live in schemas/config.schema.json (`default`), read by load.ts, so the
 * schema, the README reference generated from it and the behaviour cannot disagree.
 */
import type { ExchangeEnvironment } from './types.js';

/** Sign-in authority and Exchange admin API endpoint of each cloud, as used by Connect-ExchangeOnline. */
export const ENVIRONMENT_ENDPOINTS: Readonly<Record<ExchangeEnvironment, { authorityHost: string; adminApiUrl: string }>> = {
  O365Default: { authorityHost: 'https://login.microsoftonline.com', adminApiUrl: 'https://outlook.office365.com' },
  O365USGovGCCHigh: { authorityHost: 'https://login.microsoftonline.us', adminApiUrl: 'https://outlook.office365.us' },
  O365USGovDoD: { authorityHost: 'https://login.microsoftonline.us', adminApiUrl: 'https://webmail.apps.mil' },
  O365China: { authorityHost: 'https://login.chinacloudapi.cn', adminApiUrl: 'https://partner.outlook.cn' },
};

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Longest accepted plan lifetime; a longer one is almost certainly a mistake. */
export const MAX_EXPIRES_AFTER_MS = 365 * UNIT_MS.d;

/** `90s`, `90m`, `72h`, `7d` → milliseconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,9})([smhd])$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Remove trailing slashes so URLs can be joined with `/path` and compared. */
export function stripTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}
