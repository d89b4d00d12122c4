/**
 * `--record FILE`: turns every HTTP attempt of a run (the HttpClient `onExchange` hook)
 * into a transcript line, safe to share by construction:
 *
 *  - request headers are not recorded, except an allow-list (content-type, prefer …):
 *    no Authorization, no token, no Basic credentials, ever;
 *  - Entra ID exchanges (token endpoint, OpenID discovery) are recorded as "it
 *    happened, with this status" — never a body, which holds the client secret or
 *    assertion going out and the token coming back;
 *  - a request body is kept only for Exchange (the cmdlet and its parameters, which a
 *    replay matches on) and HelloID writes; `$batch` sub-request headers are cut to the
 *    allow-list (they carry the bearer token);
 *  - personal data and tenant identifiers are pseudonymised (pseudonym.ts) with a key
 *    that exists only in this process;
 *  - every line finally goes through `redact()`, so a registered secret that turned up
 *    anywhere still cannot reach the file.
 *
 * `raw: true` (--record-raw) skips the pseudonymisation only, for the administrator's
 * own debugging; the header then says the file is NOT safe to share.
 *
 * Lines are written as they happen, so a run that fails half-way still leaves the
 * transcript of what it saw.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { EffectiveConfig } from '../config/types.js';
import { OwnersyncError } from '../errors.js';
import { safeUrl, type HttpExchange } from '../http/index.js';
import { redact } from '../redact.js';
import { isKeptResponseHeader, keepHeaders, pseudonymiseJson, REQUEST_HEADERS, stripSubHeaders } from './fields.js';
import { TRANSCRIPT_FORMAT, type TranscriptConfig, type TranscriptEntry, type TranscriptHeader, type TranscriptOutcome } from './format.js';
import { Pseudonymiser } from './pseudonym.js';

export const SAFE_NOTICE = `ownersync transcript: pseudonymised (names, addresses, GUIDs, SIDs, tenant and hosts replaced; key discarded), no credentials. Check it with \`ownersync transcript check FILE\` before sharing.`;
export const RAW_NOTICE = 'ownersync RAW transcript: NOT SAFE TO SHARE. It holds real names, addresses and identifiers of the tenant (credentials are still left out). For the administrator\'s own use only.';

/** What a plan result looks like to the recorder (the plan body fields it pseudonymises). */
export interface RecordablePlan {
  summary: { add: number; remove: number; kept: number };
  changes: ReadonlyArray<{ action: string; groupGuid: string; groupName: string; userGuid: string; userName: string; mailbox: string; reason: string }>;
  kept: ReadonlyArray<{ groupGuid: string; groupName: string; userGuid: string; userName: string; mailbox: string; reason: string }>;
  groups: ReadonlyArray<{ groupGuid: string; groupName: string; mailbox: string; observedMembers: string[]; plannedMembers: string[] }>;
  warnings: ReadonlyArray<{ code: string; mailbox?: string; subject?: string; message: string }>;
}

export interface RecorderOptions {
  command: string;
  toolVersion: string;
  /** --record-raw: no pseudonymisation (credentials are still left out). */
  raw?: boolean;
  /** Test hook: a fixed pseudonymisation key. */
  key?: Buffer;
}

export class TranscriptRecorder {
  /** The pseudonymiser of this recording (undefined when raw); its key never leaves the process. */
  readonly pseudonymiser: Pseudonymiser | undefined;
  private fd: number | undefined;
  private seq = 0;
  private readonly t0 = performance.now();

  constructor(
    readonly file: string,
    cfg: EffectiveConfig,
    private readonly options: RecorderOptions,
  ) {
    this.pseudonymiser = options.raw
      ? undefined
      : new Pseudonymiser({
          groupPrefix: cfg.sync.groupPrefix,
          groupSuffix: cfg.sync.groupSuffix,
          // The engine's words about the config ("with source 'Local'") stay readable.
          keep: [cfg.sync.groupSource, 'Local'],
          origins: { exchange: cfg.exchange.adminApiUrl, helloid: cfg.helloid.baseUrl, entra: cfg.exchange.authorityHost },
          ...(options.key ? { key: options.key } : {}),
        });
    try {
      this.fd = openSync(file, 'w', 0o600);
    } catch (err) {
      throw new OwnersyncError(`${file}: cannot be written (--record): ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
    }
    const header: TranscriptHeader = {
      ownersyncTranscript: TRANSCRIPT_FORMAT,
      pseudonymised: !options.raw,
      notice: options.raw ? RAW_NOTICE : SAFE_NOTICE,
      command: options.command,
      toolVersion: options.toolVersion,
      createdAt: new Date().toISOString(),
      config: this.config(cfg),
    };
    this.write(header);
  }

  /** The HttpClient `onExchange` hook. */
  readonly hook = (x: HttpExchange): void => {
    this.write(this.entry(x));
  };

  /** Record the run's plan (pseudonymised like everything else) and close the file. */
  finish(plan: RecordablePlan): void {
    const p = this.pseudonymiser;
    const v = (s: string): string => (p ? p.value(s) : s);
    const t = (s: string): string => (p ? p.text(s) : s);
    const line: TranscriptOutcome = {
      outcome: {
        summary: plan.summary,
        changes: plan.changes.map((c) => ({ ...c, groupGuid: v(c.groupGuid), groupName: v(c.groupName), userGuid: v(c.userGuid), userName: v(c.userName), mailbox: v(c.mailbox), reason: t(c.reason) })),
        kept: plan.kept.map((c) => ({ ...c, groupGuid: v(c.groupGuid), groupName: v(c.groupName), userGuid: v(c.userGuid), userName: v(c.userName), mailbox: v(c.mailbox), reason: t(c.reason) })),
        groups: plan.groups.map((g) => ({ groupGuid: v(g.groupGuid), groupName: v(g.groupName), mailbox: v(g.mailbox), observedMembers: g.observedMembers.map(v).sort(), plannedMembers: g.plannedMembers.map(v).sort() })),
        warnings: plan.warnings.map((w) => ({ code: w.code, ...(w.mailbox !== undefined ? { mailbox: v(w.mailbox) } : {}), ...(w.subject !== undefined ? { subject: v(w.subject) } : {}), message: t(w.message) })),
      },
    };
    this.write(line);
    this.close();
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private write(obj: unknown): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${redact(JSON.stringify(obj))}\n`);
  }

  private config(cfg: EffectiveConfig): TranscriptConfig {
    const p = this.pseudonymiser;
    const v = (s: string): string => (p ? p.value(s) : s);
    const ex = cfg.exchange;
    return {
      tenantId: v(ex.tenantId),
      ...(ex.organization !== undefined ? { organization: p ? p.domain(ex.organization) : ex.organization } : {}),
      clientId: v(ex.clientId),
      environment: ex.environment,
      ...(ex.mailboxFilter !== undefined ? { mailboxFilter: p ? p.text(ex.mailboxFilter) : ex.mailboxFilter } : {}),
      expandGroups: ex.expandGroups,
      groupSource: cfg.sync.groupSource,
      groupPrefix: cfg.sync.groupPrefix,
      groupSuffix: cfg.sync.groupSuffix,
      removeMembers: cfg.sync.removeMembers,
      protectedUsers: cfg.sync.protectedUsers.map(v),
      limits: { ...cfg.sync.limits },
    };
  }

  private entry(x: HttpExchange): TranscriptEntry {
    const p = this.pseudonymiser;
    const end = performance.now() - this.t0;
    const e: TranscriptEntry = {
      seq: ++this.seq,
      t: Math.max(0, Math.round(end - x.durationMs)),
      ms: Math.round(x.durationMs * 10) / 10,
      service: x.service,
      method: x.method,
      path: this.path(x.url),
      attempt: x.attempt,
    };
    if (x.status !== undefined) e.status = x.status;
    if (x.error !== undefined) e.error = x.error;
    // Entra ID: that it happened and how it ended. The bodies are credentials and tokens.
    if (x.service === 'entra') return e;

    const requestHeaders = keepHeaders(x.requestHeaders, (n) => REQUEST_HEADERS.has(n), p);
    if (Object.keys(requestHeaders).length > 0) e.requestHeaders = requestHeaders;
    if (x.requestBody !== undefined && x.requestBody !== '') {
      const parsed = parseJson(x.requestBody);
      if (parsed.ok) {
        e.request = p ? pseudonymiseJson(parsed.value, p) : stripSubHeaders(parsed.value);
        const cmd = cmdletsOf(parsed.value);
        if (cmd.cmdlet) e.cmdlet = cmd.cmdlet;
        if (cmd.cmdlets) e.cmdlets = cmd.cmdlets;
      }
      // A non-JSON body (a form post) is never kept: only the token endpoint sends one.
    }
    const responseHeaders = keepHeaders(x.responseHeaders, isKeptResponseHeader, p);
    if (Object.keys(responseHeaders).length > 0) e.responseHeaders = responseHeaders;
    if (x.responseBody !== '') {
      const parsed = parseJson(x.responseBody);
      if (parsed.ok) e.response = p ? pseudonymiseJson(parsed.value, p) : parsed.value;
      else e.responseText = p ? p.text(x.responseBody) : x.responseBody;
    }
    return e;
  }

  /** Path and query of a URL, pseudonymised (or, raw, with credential parameters masked). */
  private path(url: string): string {
    const p = this.pseudonymiser;
    const out = p ? p.url(url) : safeUrl(url);
    return out.replace(/^https?:\/\/[^/?#]+/i, '') || '/';
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The cmdlet of an InvokeCommand body, or the cmdlets of a $batch body. */
function cmdletsOf(body: unknown): { cmdlet?: string; cmdlets?: string[] } {
  const name = (b: unknown): string | undefined => {
    const ci = typeof b === 'object' && b !== null ? (b as { CmdletInput?: { CmdletName?: unknown } }).CmdletInput : undefined;
    return typeof ci?.CmdletName === 'string' ? ci.CmdletName : undefined;
  };
  const single = name(body);
  if (single) return { cmdlet: single };
  const requests = typeof body === 'object' && body !== null ? (body as { requests?: unknown }).requests : undefined;
  if (Array.isArray(requests)) return { cmdlet: '$batch', cmdlets: requests.map((r) => name((r as { body?: unknown }).body) ?? '?') };
  return {};
}

/** Opens a recorder for a command's --record/--record-raw flags, warning loudly on stderr for raw. */
export function openRecorder(file: string, cfg: EffectiveConfig, options: RecorderOptions, warn: (line: string) => void): TranscriptRecorder {
  if (options.raw) warn(`WARNING: --record-raw: ${file} will hold REAL names, addresses and identifiers from the tenant. It is NOT safe to share; use --record without --record-raw for a transcript you can attach to a report.`);
  return new TranscriptRecorder(file, cfg, options);
}
