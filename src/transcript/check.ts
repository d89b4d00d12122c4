/**
 * `ownersync transcript check FILE`: shows that a transcript is safe to share, from the
 * file alone (plus, optionally, the config it was recorded with), and summarises it.
 *
 * Unsafe when any of these turns up anywhere in the file:
 *  - a secret of the config (client secret, certificate password, HelloID key/secret,
 *    OWNERSYNC_SIGNING_KEY) raw, base64, URL- or form-encoded, or as a Basic header; or
 *    one of its real identifiers (tenant id, client id, organization, HelloID host);
 *  - a token-like value: JWT-shaped anywhere, or a long base64/hex run in a header or
 *    in a field whose name says credential (authorization, token, secret, key …), or
 *    such a field at all;
 *  - an address outside PSEUDONYM_DOMAIN, a GUID without the pseudonym marker (version
 *    nibble 8), a domain SID without the pseudonym marker (S-1-5-21-0-…);
 *  - a body recorded for an Entra ID exchange, or a header saying the file is raw.
 * Findings name the line and JSON path and what kind of thing was found, never the value
 * of a secret.
 */
import { ADDRESS_RE, GUID_RE, PSEUDO_GUID, PSEUDO_SID, PSEUDONYM_DOMAIN, SID_RE } from './pseudonym.js';
import type { TranscriptEntry, TranscriptHeader } from './format.js';

export interface Finding {
  /** 1-based line of the transcript. */
  line: number;
  /** JSON path inside the line, e.g. `response.value[3].UserPrincipalName`. */
  where: string;
  kind: 'secret' | 'identifier' | 'token' | 'address' | 'guid' | 'sid' | 'entra-body' | 'raw' | 'format';
  /** What was found, without the value when it is a secret. */
  detail: string;
}

/** A value that must not appear, with the name it is reported under. */
export interface Forbidden {
  name: string;
  value: string;
  kind: 'secret' | 'identifier';
}

export interface TranscriptSummary {
  exchanges: number;
  byService: Record<string, number>;
  /** Exchange cmdlets (batched ones counted one by one) and HelloID routes. */
  byOperation: Record<string, number>;
  statuses: Record<string, number>;
  networkErrors: number;
  retries: number;
  /** Distinct `@adminapi.warnings` texts seen in Exchange replies, with counts. */
  serviceWarnings: Record<string, number>;
  /** The recorded run's plan, when it got that far. */
  plan?: { add: number; remove: number; kept: number; warnings: Record<string, number> };
  durationMs: number;
}

export interface CheckResult {
  safe: boolean;
  findings: Finding[];
  summary: TranscriptSummary;
}

const CREDENTIAL_FIELD = /authori[sz]ation|cookie|token|secret|passw|assertion|api-?key|^key$|signature/i;
/** Fields whose credential-like names are the transcript's own, not credentials. */
const BENIGN_FIELDS = new Set(['$skiptoken']);
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
const LONG_RUN = /[A-Za-z0-9+/_-]{32,}={0,2}/;
const LONG_HEX = /\b[0-9a-f]{32,}\b/i;

/** Every encoded form of a secret worth looking for. */
function encodings(f: Forbidden): Array<[string, string]> {
  const out: Array<[string, string]> = [[f.name, f.value]];
  if (f.kind === 'identifier') return out;
  out.push([`${f.name} (base64)`, Buffer.from(f.value).toString('base64')]);
  out.push([`${f.name} (URL-encoded)`, encodeURIComponent(f.value)]);
  out.push([`${f.name} (form-encoded)`, new URLSearchParams({ v: f.value }).toString().slice(2)]);
  return out;
}

/** The forbidden values of a config, with the Basic header of the HelloID key pair. */
export function forbiddenFromConfig(cfg: {
  exchange: { tenantId: string; clientId: string; organization?: string; clientSecret?: string; certificate?: { password?: string } };
  helloid: { baseUrl: string; apiKey: string; apiSecret: string };
}, extraSecrets: Record<string, string | undefined> = {}): Forbidden[] {
  const out: Forbidden[] = [];
  const secret = (name: string, value: string | undefined): void => {
    if (value && value.length >= 4) out.push({ name, value, kind: 'secret' });
  };
  secret('exchange.clientSecret', cfg.exchange.clientSecret);
  secret('exchange.certificate.password', cfg.exchange.certificate?.password);
  secret('helloid.apiKey', cfg.helloid.apiKey);
  secret('helloid.apiSecret', cfg.helloid.apiSecret);
  if (cfg.helloid.apiKey && cfg.helloid.apiSecret) secret('HelloID Basic header', Buffer.from(`${cfg.helloid.apiKey}:${cfg.helloid.apiSecret}`).toString('base64'));
  for (const [name, value] of Object.entries(extraSecrets)) secret(name, value);
  const id = (name: string, value: string | undefined): void => {
    if (value && value.length >= 4) out.push({ name, value, kind: 'identifier' });
  };
  id('exchange.tenantId', cfg.exchange.tenantId);
  id('exchange.clientId', cfg.exchange.clientId);
  id('exchange.organization', cfg.exchange.organization);
  try {
    const host = new URL(cfg.helloid.baseUrl).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost') id('helloid.baseUrl host', host);
  } catch {
    // not a URL: nothing to look for
  }
  return out;
}

function operationOf(e: TranscriptEntry): string[] {
  if (e.service === 'exchange') {
    if (e.cmdlets) return e.cmdlets.map((c) => `exchange ${c} (in $batch)`);
    return [`exchange ${e.cmdlet ?? e.path.split('?')[0]}`];
  }
  const path = (e.path.split('?')[0] ?? '').replace(/\/[^/]*[0-9a-f]{8}-[0-9a-f]{4}-[^/]*/gi, '/{id}');
  if (e.service === 'entra') return [`entra ${e.method} ${path.replace(/^\/[^/]+/, '/{tenant}')}`];
  return [`helloid ${e.method} ${path}`];
}

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** Check every string (and key) of one parsed line. */
function checkValue(v: unknown, where: string, line: number, inHeaders: boolean, findings: Finding[]): void {
  if (typeof v === 'string') {
    checkString(v, where, line, inHeaders, findings);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkValue(x, `${where}[${i}]`, line, inHeaders, findings));
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const path = where ? `${where}.${k}` : k;
    // A credential-named field holding a real value (not a flag such as PasswordNeverExpires: false).
    if (CREDENTIAL_FIELD.test(k) && !BENIGN_FIELDS.has(k) && typeof x === 'string' && x.length >= 8) {
      findings.push({ line, where: path, kind: 'token', detail: `a field named like a credential ('${k}')` });
      continue;
    }
    checkString(k, `${path} (key)`, line, false, findings);
    checkValue(x, path, line, inHeaders || /headers$/i.test(k), findings);
  }
}

function checkString(s: string, where: string, line: number, inHeaders: boolean, findings: Finding[]): void {
  if (JWT.test(s)) findings.push({ line, where, kind: 'token', detail: 'a JWT-shaped value' });
  else if (inHeaders && (LONG_RUN.test(s) || LONG_HEX.test(s))) findings.push({ line, where, kind: 'token', detail: 'a long base64/hex run in a header' });
  for (const m of s.matchAll(new RegExp(ADDRESS_RE.source, 'gu'))) {
    const domain = m[0].slice(m[0].lastIndexOf('@') + 1).toLowerCase();
    if (!domain.endsWith(`.${PSEUDONYM_DOMAIN}`)) findings.push({ line, where, kind: 'address', detail: `an address outside ${PSEUDONYM_DOMAIN}: ${m[0]}` });
  }
  for (const m of s.matchAll(new RegExp(GUID_RE.source, 'g'))) {
    const g = m[0].replace(/[{}()]/g, '');
    if (!PSEUDO_GUID.test(g)) findings.push({ line, where, kind: 'guid', detail: `a GUID that is not a pseudonym: ${g}` });
  }
  for (const m of s.matchAll(new RegExp(SID_RE.source, 'gi'))) {
    if (!PSEUDO_SID.test(m[0])) findings.push({ line, where, kind: 'sid', detail: `a SID that is not a pseudonym: ${m[0]}` });
  }
}

export function checkTranscript(text: string, forbidden: readonly Forbidden[] = []): CheckResult {
  const findings: Finding[] = [];
  const summary: TranscriptSummary = { exchanges: 0, byService: {}, byOperation: {}, statuses: {}, networkErrors: 0, retries: 0, serviceWarnings: {}, durationMs: 0 };
  const patterns = forbidden.flatMap((f) => encodings(f).map(([name, value]) => ({ name, value, kind: f.kind })));
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    for (const p of patterns) {
      if (raw.includes(p.value) || raw.toLowerCase().includes(p.value.toLowerCase())) {
        findings.push({ line, where: '(anywhere)', kind: p.kind, detail: p.kind === 'secret' ? `the config's ${p.name}` : `the real ${p.name}` });
      }
    }
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      findings.push({ line, where: '', kind: 'format', detail: 'not a JSON line (cannot be checked)' });
      return;
    }
    if (i === 0) {
      const h = obj as unknown as TranscriptHeader;
      if (h.pseudonymised !== true) findings.push({ line, where: 'pseudonymised', kind: 'raw', detail: 'recorded with --record-raw: real names and identifiers, not for sharing' });
      checkValue(obj, '', line, false, findings);
      return;
    }
    checkValue(obj, '', line, false, findings);
    if ('outcome' in obj) {
      const o = obj.outcome as { summary: { add: number; remove: number; kept: number }; warnings: Array<{ code: string }> };
      const warnings: Record<string, number> = {};
      for (const w of o.warnings ?? []) bump(warnings, w.code);
      summary.plan = { ...o.summary, warnings };
      return;
    }
    const e = obj as unknown as TranscriptEntry;
    if (e.service === 'entra' && (e.request !== undefined || e.response !== undefined || e.responseText !== undefined)) {
      findings.push({ line, where: 'response', kind: 'entra-body', detail: 'an Entra ID body (token endpoint bodies hold credentials)' });
    }
    summary.exchanges++;
    bump(summary.byService, e.service);
    for (const op of operationOf(e)) bump(summary.byOperation, op);
    bump(summary.statuses, e.status === undefined ? `network error (${e.error ?? '?'})` : String(e.status));
    if (e.status === undefined) summary.networkErrors++;
    if (e.attempt > 1) summary.retries++;
    summary.durationMs = Math.max(summary.durationMs, e.t + e.ms);
    collectWarnings(e.response, summary.serviceWarnings);
  });
  return { safe: findings.length === 0, findings, summary };
}

/** `@adminapi.warnings` of an Exchange reply, also inside `$batch` sub-responses. */
function collectWarnings(body: unknown, into: Record<string, number>): void {
  if (typeof body !== 'object' || body === null) return;
  const b = body as Record<string, unknown>;
  const w = b['@adminapi.warnings'];
  if (Array.isArray(w)) for (const x of w) if (typeof x === 'string' && x !== '') bump(into, x);
  if (Array.isArray(b.responses)) for (const r of b.responses) collectWarnings((r as { body?: unknown }).body, into);
}

/** The check result as text for the terminal. */
export function renderCheck(file: string, r: CheckResult): string {
  const lines: string[] = [];
  if (r.safe) lines.push(`SAFE: ${file} holds no credential, no real address, GUID or SID, and no value of the given config.`);
  else {
    lines.push(`UNSAFE: ${file}: ${r.findings.length} finding${r.findings.length === 1 ? '' : 's'} — do not share it.`);
    for (const f of r.findings.slice(0, 50)) lines.push(`  line ${f.line}${f.where ? `, ${f.where}` : ''}: ${f.kind}: ${f.detail}`);
    if (r.findings.length > 50) lines.push(`  … and ${r.findings.length - 50} more`);
  }
  const s = r.summary;
  lines.push('', `${s.exchanges} HTTP exchanges over ${(s.durationMs / 1000).toFixed(1)} s (${s.retries} retries, ${s.networkErrors} network errors)`);
  lines.push(`  by service: ${Object.entries(s.byService).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  lines.push(`  statuses:   ${Object.entries(s.statuses).sort().map(([k, n]) => `${k} × ${n}`).join(', ') || 'none'}`);
  lines.push('  requests:');
  for (const [op, n] of Object.entries(s.byOperation).sort()) lines.push(`    ${String(n).padStart(6)}  ${op}`);
  const sw = Object.entries(s.serviceWarnings);
  if (sw.length > 0) {
    lines.push('  service warnings (@adminapi.warnings):');
    for (const [w, n] of sw) lines.push(`    ${String(n).padStart(6)}  ${w}`);
  }
  if (s.plan) {
    lines.push(`  plan: ${s.plan.add} to add, ${s.plan.remove} to remove, ${s.plan.kept} kept`);
    const pw = Object.entries(s.plan.warnings);
    if (pw.length > 0) lines.push(`  plan warnings: ${pw.map(([c, n]) => `${c} × ${n}`).join(', ')}`);
  } else lines.push('  plan: not reached (the run ended before a plan was made)');
  return `${lines.join('\n')}\n`;
}
