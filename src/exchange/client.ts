/**
 * Exchange Online admin API client (the REST endpoint the ExchangeOnlineManagement v3
 * module uses): `InvokeCommand` with every page, `$batch` for the per-mailbox
 * permission reads, and group trustee resolution. Maps wire objects to core types.
 *
 * Failure policy (spec §3): listing mailboxes or users either returns everything or
 * throws — never a partial list. A mailbox whose permission read fails for good gets
 * `permissions: null` + `permissionError`; a group whose member read fails gets
 * `members: null` + `memberError`. Core then treats them as incomplete (no removals).
 */
import { randomUUID } from 'node:crypto';
import type { ExchangeGroup, ExchangeUser, Mailbox } from '../core/types.js';
import { OwnersyncError } from '../errors.js';
import { HttpError, safeUrl, type HttpClient, type HttpResponse, type Priority } from '../http/index.js';
import { runPool } from '../pool.js';
import type { TokenProvider } from './auth.js';
import {
  isGroupType,
  isObject,
  mailboxIdentity,
  serviceErrorText,
  toGroupHeader,
  toGroupMember,
  toMailbox,
  toPermissionEntries,
  toUser,
  type WireObject,
} from './wire.js';

/** The system mailbox the admin API routes app-only calls through. */
const SYSTEM_ANCHOR = 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}';

/** Sub-request statuses of a $batch that are retried as single calls. */
const RETRY_SUB_STATUSES = new Set([401, 408, 429, 500, 502, 503, 504]);

export type ExchangePhase = 'mailboxes' | 'users' | 'permissions' | 'groups';

/** Round trips started ahead of the concurrency limit: enough to keep it busy as it grows. */
const READ_AHEAD = 64;


export interface ExchangeClientOptions {
  tenantId: string;
  /** e.g. https://outlook.office365.com (no trailing slash). */
  adminApiUrl: string;
  /** Client for the admin API (service 'exchange'). */
  http: HttpClient;
  auth: TokenProvider;
  /** Read permissions with `$batch` (10 cmdlets per round trip). @default true */
  useBatch?: boolean;
  /** Sub-requests per `$batch` (the API takes at most 10). @default 10 */
  batchSize?: number;
  /** Times a listing starts over after "Expired or Invalid pagination request". @default 3 */
  maxListingRestarts?: number;
  /** `Prefer: odata.maxpagesize`. @default 1000 */
  pageSize?: number;
  /** OPATH filter for listMailboxes() when it is called without one (exchange.mailboxFilter). */
  mailboxFilter?: string;
  /** Told about listing restarts and batch fallbacks (for --debug output). */
  onNotice?: (message: string) => void;
}

/** One cmdlet call for a $batch. */
interface Command {
  cmdlet: string;
  parameters: Record<string, unknown>;
}

type CommandResult = { ok: true; items: unknown[] } | { ok: false; error: string };

export class ExchangeClient {
  readonly tenantId: string;
  private readonly base: string;
  private readonly invokeUrl: string;
  private readonly batchUrl: string;
  private readonly http: HttpClient;
  private readonly auth: TokenProvider;
  private useBatch: boolean;
  private readonly batchSize: number;
  private readonly maxRestarts: number;
  private readonly pageSize: number;
  private readonly onNotice: (message: string) => void;
  private readonly mailboxFilter: string | undefined;
  private users: Promise<ExchangeUser[]> | undefined;
  /** Member reads, each group read once per client (keyed by lower-cased Guid or name). */
  private readonly groupReads = new Map<string, Promise<ExchangeGroup>>();
  /** Get-Recipient results per trustee (lower-cased). */
  private readonly recipientReads = new Map<string, Promise<ExchangeGroup | undefined>>();

  constructor(options: ExchangeClientOptions) {
    this.tenantId = options.tenantId;
    this.base = `${options.adminApiUrl.replace(/\/+$/, '')}/adminapi/beta/${encodeURIComponent(options.tenantId)}`;
    this.invokeUrl = `${this.base}/InvokeCommand`;
    this.batchUrl = `${this.base}/$batch`;
    this.http = options.http;
    this.auth = options.auth;
    this.useBatch = options.useBatch ?? true;
    this.batchSize = Math.min(10, Math.max(1, options.batchSize ?? 10));
    this.maxRestarts = options.maxListingRestarts ?? 3;
    this.pageSize = options.pageSize ?? 1000;
    this.onNotice = options.onNotice ?? (() => {});
    this.mailboxFilter = options.mailboxFilter;
  }

  // -------------------------------------------------------------------------------
  // Listings (fatal on failure)

  /** Every in-scope shared mailbox, all pages; `permissions` not read yet (null). */
  async listMailboxes(filter: string | undefined = this.mailboxFilter): Promise<Mailbox[]> {
    const parameters: Record<string, unknown> = { RecipientTypeDetails: 'SharedMailbox', ResultSize: 'Unlimited' };
    if (filter !== undefined && filter.trim() !== '') parameters.Filter = filter;
    // A listing is a chain of pages: 'high' lets each page go ahead of queued fan-out reads.
    return this.invokeMapped('Get-Mailbox', parameters, 'high', (o) => (isObject(o) ? toMailbox(o) : undefined));
  }

  /** Alias of listMailboxes (the brief's name). */
  getSharedMailboxes(filter: string | undefined = this.mailboxFilter): Promise<Mailbox[]> {
    return this.listMailboxes(filter);
  }

  /** Every Exchange user with a UPN, all pages (read once per client). */
  listUsers(): Promise<ExchangeUser[]> {
    this.users ??= this.invokeMapped('Get-User', { ResultSize: 'Unlimited' }, 'high', (o) => (isObject(o) ? toUser(o) : undefined));
    // A failed read must not stick: the next caller tries again.
    this.users.catch(() => {
      this.users = undefined;
    });
    return this.users;
  }

  /** Alias of listUsers (the brief's name). */
  getUsers(): Promise<ExchangeUser[]> {
    return this.listUsers();
  }

  // -------------------------------------------------------------------------------
  // Permissions (per mailbox, failures recorded)

  /** Fill `permissions` of each mailbox; a read that fails for good gives null + permissionError. */
  async readPermissions(mailboxes: Mailbox[], onProgress?: (done: number, total: number) => void): Promise<Mailbox[]> {
    const total = mailboxes.length;
    let done = 0;
    const tick = (): void => {
      done++;
      onProgress?.(done, total);
    };
    const results = new Array<CommandResult>(total);
    const commands = mailboxes.map((m): Command => ({ cmdlet: 'Get-MailboxPermission', parameters: { Identity: mailboxIdentity(m) } }));

    // At most READ_AHEAD round trips are started at a time (the limiter decides how many
    // are in flight): hundreds of $batch bodies parked in its queue would only hold memory.
    if (this.useBatch && total > 1) {
      const chunks: number[][] = [];
      for (let i = 0; i < total; i += this.batchSize) chunks.push(Array.from({ length: Math.min(this.batchSize, total - i) }, (_, k) => i + k));
      await runPool(chunks, READ_AHEAD, async (idx) => {
        const out = await this.runBatch(idx.map((i) => commands[i] as Command), () => tick());
        idx.forEach((i, k) => (results[i] = out[k] as CommandResult));
      });
    } else {
      await runPool(
        commands.map((c, i) => [c, i] as const),
        READ_AHEAD,
        async ([c, i]) => {
          results[i] = await this.runSingle(c);
          tick();
        },
      );
    }

    return mailboxes.map((m, i) => {
      const r = results[i] as CommandResult;
      const { permissionError: _drop, ...rest } = m;
      if (r.ok) return { ...rest, permissions: toPermissionEntries(r.items) };
      return { ...rest, permissions: null, permissionError: r.error };
    });
  }

  /** Permission rows of one mailbox (throws on failure). */
  async getMailboxPermissions(identity: string): Promise<ReturnType<typeof toPermissionEntries>> {
    return toPermissionEntries(await this.invokeCommand('Get-MailboxPermission', { Identity: identity }));
  }

  // -------------------------------------------------------------------------------
  // Group trustees

  /**
   * Resolve trustees that are not users (Get-Recipient); groups among them are read
   * (Get-DistributionGroupMember) and so are groups nested in them, breadth first,
   * each group once, so cycles end by themselves. Returns every group read, with its
   * direct members; core expands them. A trustee Exchange does not know is left out
   * (core warns "unresolved trustee"); one whose lookup failed is returned as a group
   * with `members: null`, so the mailboxes it holds are treated as incomplete.
   */
  async resolveGroups(trustees: string[]): Promise<ExchangeGroup[]> {
    const found = new Map<string, ExchangeGroup>();
    const keyOf = (g: { guid?: string; name: string }): string => (g.guid ?? g.name).toLowerCase();
    let frontier: ExchangeGroup[] = (await Promise.all(trustees.map((t) => this.recipient(t)))).filter(
      (g): g is ExchangeGroup => g !== undefined,
    );
    // Breadth first: each level's member reads run in parallel (within the limiter).
    while (frontier.length > 0) {
      const level = await Promise.all(frontier.filter((g) => !found.has(keyOf(g))).map((g) => this.groupMembers(g)));
      const next: ExchangeGroup[] = [];
      for (const g of level) {
        if (found.has(keyOf(g))) continue;
        found.set(keyOf(g), g);
        for (const m of g.members ?? []) {
          if (!isGroupType(m.recipientTypeDetails)) continue;
          const nested: ExchangeGroup = {
            name: m.name ?? m.displayName ?? m.primarySmtpAddress ?? m.guid ?? '',
            recipientTypeDetails: m.recipientTypeDetails ?? 'Unknown',
            members: null,
          };
          for (const k of ['displayName', 'primarySmtpAddress', 'guid', 'externalDirectoryObjectId'] as const) {
            if (m[k] !== undefined) nested[k] = m[k];
          }
          if (nested.name !== '' && !found.has(keyOf(nested))) next.push(nested);
        }
      }
      frontier = next;
    }
    return [...found.values()].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : 0));
  }

  /** Get-Recipient for one trustee: a group header, or undefined when it is no group / unknown. */
  private recipient(trustee: string): Promise<ExchangeGroup | undefined> {
    const key = trustee.toLowerCase();
    let p = this.recipientReads.get(key);
    if (!p) {
      p = this.invokeCommand('Get-Recipient', { Identity: trustee }).then(
        (items) => {
          const o = items.find(isObject);
          if (!o) return undefined;
          const header = toGroupHeader(o, trustee);
          if (!isGroupType(header.recipientTypeDetails)) return undefined;
          return { ...header, members: null };
        },
        (err: unknown) => {
          if (isNotFound(err)) return undefined;
          // Unknown whether it is a group: report it as one whose members could not be
          // read, so nothing is removed on the strength of a failed lookup.
          return { name: trustee, recipientTypeDetails: 'Unknown', members: null, memberError: errorText(err) };
        },
      );
      this.recipientReads.set(key, p);
    }
    return p;
  }

  /** Members of one group (memoised); a failed read gives members: null + memberError. */
  private groupMembers(group: ExchangeGroup): Promise<ExchangeGroup> {
    if (group.memberError !== undefined) return Promise.resolve(group);
    const key = (group.guid ?? group.name).toLowerCase();
    let p = this.groupReads.get(key);
    if (!p) {
      const identity = group.guid ?? group.externalDirectoryObjectId ?? group.name;
      p = this.invokeCommand('Get-DistributionGroupMember', { Identity: identity, ResultSize: 'Unlimited' }).then(
        (items): ExchangeGroup => ({ ...group, members: items.filter(isObject).map(toGroupMember) }),
        (err: unknown): ExchangeGroup => ({ ...group, members: null, memberError: errorText(err) }),
      );
      this.groupReads.set(key, p);
    }
    return p;
  }

  // -------------------------------------------------------------------------------
  // InvokeCommand

  /**
   * Run a cmdlet and return the objects of every page. A page link that has expired
   * ("Expired or Invalid pagination request") restarts the listing from the first
   * page, a bounded number of times; anything else that fails throws. `priority`
   * 'high' is for listings (see RequestOptions.priority).
   */
  async invokeCommand(cmdlet: string, parameters: Record<string, unknown> = {}, priority: Priority = 'normal'): Promise<unknown[]> {
    return this.invokeMapped(cmdlet, parameters, priority, (item) => item);
  }

  /**
   * invokeCommand, mapping each page's objects as it arrives (undefined drops one), so
   * a listing of tens of thousands of wire objects never sits in memory at once.
   */
  private async invokeMapped<T>(cmdlet: string, parameters: Record<string, unknown>, priority: Priority, map: (item: unknown) => T | undefined): Promise<T[]> {
    const body = JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters ?? {} } });
    for (let restart = 0; ; restart++) {
      const items: T[] = [];
      let url: string | undefined = this.invokeUrl;
      let page = 0;
      try {
        while (url !== undefined) {
          const res = await this.post(url, cmdlet, body, undefined, priority);
          const parsed = this.parsePage(res, url, cmdlet);
          for (const item of parsed.items) {
            const mapped = map(item);
            if (mapped !== undefined) items.push(mapped);
          }
          url = parsed.next;
          page++;
        }
        return items;
      } catch (err) {
        if (page > 0 && restart < this.maxRestarts && isExpiredPageLink(err)) {
          this.onNotice(`${cmdlet}: page link expired after ${page} page(s); restarting the listing`);
          continue;
        }
        throw err;
      }
    }
  }

  private parsePage(res: HttpResponse, url: string, cmdlet: string): { items: unknown[]; next?: string } {
    const body = res.json<unknown>();
    const value = isObject(body) ? body.value : undefined;
    if (!Array.isArray(value)) {
      throw new OwnersyncError(`POST ${safeUrl(url)} (${cmdlet}) returned ${res.status} without a "value" array; refusing to treat it as an empty result`);
    }
    const link = isObject(body) ? body['@odata.nextLink'] : undefined;
    return { items: value, ...(typeof link === 'string' && link !== '' ? { next: this.followable(link, url, cmdlet) } : {}) };
  }

  /** A next link resolved against the current URL; the token is only ever sent to the admin API's origin. */
  private followable(link: string, current: string, cmdlet: string): string {
    const next = new URL(link, current);
    if (next.origin !== new URL(this.invokeUrl).origin) {
      throw new OwnersyncError(`${cmdlet}: the admin API returned a page link to another host (${safeUrl(next)}); not following it`);
    }
    return next.toString();
  }

  /** The documented InvokeCommand headers; a `$batch` envelope has no cmdlet of its own. */
  private headers(cmdlet: string | undefined, token: string): Record<string, string> {
    return {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-anchormailbox': `APP:${SYSTEM_ANCHOR}@${this.tenantId}`,
      ...(cmdlet !== undefined ? { 'x-cmdletname': cmdlet } : {}),
      'x-responseformat': 'json',
      prefer: `odata.maxpagesize=${this.pageSize}`,
      'client-request-id': randomUUID(),
    };
  }

  /** POST with a token; a 401 renews the token once and tries again. */
  private async post(url: string, cmdlet: string, body: string, acceptStatuses?: readonly number[], priority: Priority = 'normal'): Promise<HttpResponse> {
    let token = await this.auth.getToken();
    for (let renewed = false; ; renewed = true) {
      let res: HttpResponse;
      try {
        res = await this.http.request(url, {
          method: 'POST',
          headers: this.headers(cmdlet === '$batch' ? undefined : cmdlet, token),
          body,
          label: cmdlet,
          acceptStatuses: [401, ...(acceptStatuses ?? [])],
          priority,
        });
      } catch (err) {
        throw explainAccess(err, this.tenantId);
      }
      if (res.status !== 401) return res;
      if (renewed) {
        throw new OwnersyncError(
          `POST ${safeUrl(url)} (${cmdlet}) failed: 401 Unauthorized even with a fresh token: Exchange Online does not accept the app for tenant ${this.tenantId}; grant it the Exchange.ManageAsApp application permission (Office 365 Exchange Online) with admin consent`,
        );
      }
      token = await this.auth.getToken(true, token);
    }
  }

  // -------------------------------------------------------------------------------
  // Single calls and $batch

  private async runSingle(c: Command): Promise<CommandResult> {
    try {
      return { ok: true, items: await this.invokeCommand(c.cmdlet, c.parameters) };
    } catch (err) {
      return { ok: false, error: errorText(err) };
    }
  }

  /**
   * Up to 10 cmdlets in one `$batch` round trip. Sub-responses that were throttled or
   * failed on the server (429/5xx, or 401) are retried one by one as single calls,
   * which have the full retry policy; a sub-response with more pages is re-read as a
   * single call too. If the service refuses `$batch` itself, batching is switched off
   * for the rest of the run and single calls are used.
   */
  private async runBatch(commands: Command[], tick: () => void): Promise<CommandResult[]> {
    const single = async (c: Command): Promise<CommandResult> => {
      const r = await this.runSingle(c);
      tick();
      return r;
    };
    if (!this.useBatch || commands.length === 1) return Promise.all(commands.map(single));

    let responses: unknown[];
    try {
      const token = await this.auth.getToken();
      const subHeaders = (cmdlet: string): Record<string, string> => this.headers(cmdlet, token);
      const payload = {
        requests: commands.map((c, i) => ({
          id: String(i + 1),
          method: 'POST',
          url: this.invokeUrl,
          headers: subHeaders(c.cmdlet),
          body: { CmdletInput: { CmdletName: c.cmdlet, Parameters: c.parameters } },
        })),
      };
      const res = await this.post(this.batchUrl, '$batch', JSON.stringify(payload), [400, 404, 405, 501]);
      if (res.status >= 300) {
        this.useBatch = false;
        this.onNotice(`$batch refused (${res.status}); reading permissions with single calls`);
        return Promise.all(commands.map(single));
      }
      const body = res.json<unknown>();
      const list = isObject(body) ? body.responses : undefined;
      if (!Array.isArray(list)) throw new OwnersyncError('$batch reply without a "responses" array');
      responses = list;
    } catch (err) {
      // The whole batch failed after retries: each command gets its own chance.
      this.onNotice(`$batch failed (${errorText(err)}); retrying its commands one by one`);
      return Promise.all(commands.map(single));
    }

    const byId = new Map<string, WireObject>();
    for (const r of responses) if (isObject(r) && r.id !== undefined) byId.set(String(r.id), r);
    return Promise.all(
      commands.map(async (c, i): Promise<CommandResult> => {
        const r = byId.get(String(i + 1));
        const status = r ? Number(r.status) : NaN;
        let body: unknown = r?.body;
        if (typeof body === 'string') {
          try {
            body = JSON.parse(body);
          } catch {
            // leave as text
          }
        }
        if (!r || Number.isNaN(status) || RETRY_SUB_STATUSES.has(status)) return single(c);
        if (status >= 200 && status < 300) {
          const value = isObject(body) ? body.value : undefined;
          const more = isObject(body) && typeof body['@odata.nextLink'] === 'string';
          if (!Array.isArray(value) || more) return single(c);
          tick();
          return { ok: true, items: value };
        }
        tick();
        const why = serviceErrorText(body);
        return { ok: false, error: `${c.cmdlet} ${JSON.stringify(c.parameters.Identity ?? '')} failed in $batch: ${status}${why ? ` — ${why}` : ''}` };
      }),
    );
  }
}

/** Whether the admin API said the object does not exist (404, or a 400 carrying ManagementObjectNotFoundException). */
function isNotFound(err: unknown): boolean {
  if (!(err instanceof HttpError)) return false;
  if (err.status === 404) return true;
  return err.status === 400 && /ManagementObjectNotFoundException|couldn't be found|"code"\s*:\s*"NotFound"/i.test(err.responseBody ?? '');
}

/** Whether an error is the admin API's "Expired or Invalid pagination request". */
function isExpiredPageLink(err: unknown): boolean {
  if (!(err instanceof HttpError) || err.status !== 400) return false;
  return /expired or invalid pagination/i.test(err.responseBody ?? '');
}

/** 403 from the admin API: the app role is there but no Entra role; say so. */
function explainAccess(err: unknown, tenantId: string): unknown {
  if (err instanceof HttpError && err.status === 403) {
    return new OwnersyncError(
      `${err.message} — the app is not allowed to run this cmdlet in tenant ${tenantId}; assign it an Entra role that can read Exchange (e.g. Global Reader or Exchange Administrator)`,
      undefined,
      { cause: err },
    );
  }
  return err;
}

/** A one-line reason for a recorded (non-fatal) failure: the HttpError message plus the service's words. */
function errorText(err: unknown): string {
  if (err instanceof HttpError) {
    const why = serviceErrorText(err.responseBody);
    return why && !err.message.includes(why) ? `${err.message} (${why})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
