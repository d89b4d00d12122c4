/**
 * Process-wide secret registry. Every secret value the tool learns (client secret,
 * certificate password, HelloID key/secret, signing key, bearer tokens) is registered
 * here, and everything printed or written on an error path passes through `redact`.
 * This is defence in depth: code should not put secrets in messages to begin with.
 */

const secrets = new Set<string>();

/** Register a secret value; values shorter than 4 characters are ignored (too many false hits). */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string' || value.length < 4) return;
  secrets.add(value);
  // Basic-auth style encodings of the same secret also count.
  secrets.add(Buffer.from(value).toString('base64'));
  secrets.add(encodeURIComponent(value));
}

/**
 * Replace every registered secret in `text` with `***`. Longest first: a secret can
 * sit inside another (the HelloID secret's base64 inside the Basic header's base64),
 * and replacing the inner one first would leave the rest of the outer one readable.
 */
export function redact(text: string): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length >= 4 && out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}

/** For tests. */
export function clearSecrets(): void {
  secrets.clear();
}
