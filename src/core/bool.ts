/**
 * The one tolerant boolean parser of core. Exchange's admin API sends permission flags
 * (`IsInherited`, `Deny`) as JSON booleans or as the strings "True"/"False" depending on
 * the cmdlet path, so every consumer of those flags goes through here.
 */
import type { LooseBool } from './types.js';

/**
 * `true`, "True", "true", " TRUE " and "1" are true; everything else (false, "False", "",
 * null, undefined, garbage) is false. Treating unknown strings as false is deliberate:
 * callers only use this for `Deny`/`IsInherited`, where the row is then kept and the
 * worst case is a visible extra holder rather than a silent removal.
 */
export function parseBool(v: LooseBool): boolean {
  if (v === true) return true;
  if (typeof v !== 'string') return false;
  // Exchange's own spellings first: no allocation on the hot path (millions of rows).
  if (v === 'False' || v === 'false' || v === '') return false;
  if (v === 'True' || v === 'true') return true;
  const s = v.trim().toLowerCase();
  return s === 'true' || s === '1';
}
