/**
 * Reading the JSON objects the Exchange admin API and HelloID send, tolerantly: both
 * clients look properties up case-insensitively (each service has been seen to vary
 * the casing: docs/wire-formats.md) and treat a blank string as absent. The emulator
 * keeps its own helpers on purpose: it shares no code with the clients.
 */

export type WireObject = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export function isObject(v: unknown): v is WireObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A property by name, case-insensitively (exact match first, it is the common case). */
export function prop(obj: WireObject, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

/**
 * The first of `names` that holds text (numbers stringified), or undefined when each is
 * absent, null or blank: a blank GUID, name or message says nothing.
 */
export function str(obj: WireObject, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = prop(obj, name);
    if (typeof v === 'string' && v.trim() !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}
