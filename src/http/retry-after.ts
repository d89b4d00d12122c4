/**
 * Parses throttling hints. `Retry-After` may be delay-seconds (Exchange sends
 * fractional values such as `0.5`) or an HTTP date; Azure front doors also send
 * `retry-after-ms` / `x-ms-retry-after-ms`, which are more precise and win when present.
 */

/** Delay in milliseconds asked for by the response headers, or undefined when none is usable. */
export function retryAfterMs(headers: Record<string, string>, now: number = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = headers[name];
    if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number.parseFloat(ms));
  }
  return parseRetryAfter(headers['retry-after'], now);
}

/** `Retry-After` value → milliseconds (never negative), or undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number.parseFloat(v) * 1000);
  // Only accept something that looks like an HTTP date, not any string Date.parse tolerates.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
