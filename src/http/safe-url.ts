/**
 * Renders a URL for error messages and events: user-info and credential-like query
 * parameters are replaced by `***`, then the whole string goes through `redact()`.
 * The rest of the query string is kept verbatim because it is what tells two failing
 * calls apart (e.g. `skip=2000&take=1000`), except an OData `$select`, whose list of
 * properties is the same for every call of a kind and only lengthens the message: it
 * prints as `$select=…`.
 */
import { redact } from '../redact.js';

/** Query parameter names whose values are credentials (compared case-insensitively). */
const CREDENTIAL_PARAMS = new Set([
  'access_token',
  'api_key',
  'apikey',
  'api-key',
  'client_assertion',
  'client_secret',
  'code',
  'id_token',
  'key',
  'password',
  'refresh_token',
  'secret',
  'sig',
  'signature',
  'token',
]);

/** Names that look like a credential even when not listed above. */
const CREDENTIAL_PATTERN = /secret|passw|pwd|apikey|api_key|assertion|^auth/i;

function isCredentialParam(rawName: string): boolean {
  let name = rawName;
  try {
    name = decodeURIComponent(rawName.replace(/\+/g, ' '));
  } catch {
    // keep the raw name
  }
  return CREDENTIAL_PARAMS.has(name.toLowerCase()) || CREDENTIAL_PATTERN.test(name);
}

/** A URL safe to print: no user-info, no credential query values, no registered secret. */
export function safeUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return redact(String(input));
  }
  url.username = '';
  url.password = '';
  const query = url.search.startsWith('?') ? url.search.slice(1) : '';
  url.search = '';
  url.hash = '';
  let out = url.toString();
  if (query !== '') {
    // Rewrite pair by pair, so untouched parameters keep their exact encoding.
    const pairs = query.split('&').map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      if (eq === -1) return pair;
      if (isCredentialParam(name)) return `${name}=***`;
      return /^(\$|%24)select$/i.test(name) ? `${name}=…` : pair;
    });
    out += `?${pairs.join('&')}`;
  }
  return redact(out);
}
