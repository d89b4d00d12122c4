/**
 * Key paths as shown to the user: `sync.limits.maxRemovals`, `sync.protectedUsers[2]`.
 */

export type KeyPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Render a key path; odd keys (dots, spaces, quotes) are shown quoted so the path stays unambiguous. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${quoteKey(seg)}]`;
  }
  return out;
}

/** A key as it appears in a message: JSON-quoted and shortened (keys are user text, not secrets). */
export function quoteKey(key: string): string {
  const short = key.length > 60 ? `${key.slice(0, 57)}...` : key;
  return JSON.stringify(short);
}

/** ajv instancePath (JSON pointer) → key path. Numeric segments are array indices here. */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}
