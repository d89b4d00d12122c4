/**
 * Exchange Online admin API client (the REST endpoint the ExchangeOnlineManagement v3
 * module uses): `InvokeCommand` with every page, `$batch` for the per-mailbox
 * permission reads, and group trustee resolution. Maps wire objects to core types.
 *
 * Failure policy (spec §3): listing mailboxes or users either returns everything or
 * throws — never a partial list. A mailbox whose permission read fails for good gets
 * `permissions: null` + `permissionError`; a group whose member read fails gets
 * `members: null` + `memberError`; a trustee whose lookup fails is a FailedLookup.
 * Core then treats them as incomplete (no removals).
 *
 * The live service's habits (docs/wire-formats.md): an empty result may come without
 * `value`; errors, "not found" and even "busy" are HTTP 400s told apart by the exception
 * type in the body (errors.ts); a reply cut by ResultSize carries `@adminapi.warnings`
 * and a page link that cannot be followed, so links are followed only for
 * `ResultSize: Unlimited` and the warnings are kept (serviceWarnings).
 */
import { randomUUID } from 'node:crypto';
import { isGroupType, type ExchangeGroup, type ExchangeUser, type FailedLookup, type GroupMember, type Mailbox, type PermissionEntry, type ServiceWarning } from '../core/index.js';
import { OwnersyncError } from '../errors.js';
import { safeUrl, type HttpClient, type HttpResponse, type Priority } from '../http/index.js';
import { runPool } from '../pool.js';
import type { TokenProvider } from './auth.js';
import { errorText, explainAccess, isExpiredPageLink, isNotFound, isTransientReply, isTransientType, toExchangeError } from './errors.js';
import {
  groupMemberNames,
  isMailEnabledGroupType,
  isSecurityGroupType,
  MAILBOX_PROPERTIES,
  mailboxIdentity,
  serviceErrorText,
  serviceException,
  toGroupHeader,
  toGroupMember,
  toMailbox,
  toPermissionEntries,
  toUser,
  USER_PROPERTIES,
} from './wire.js';
import { isObject, prop, str, type WireObject } from '../wire-object.js';

/** The system mailbox the admin API routes app-only calls through. */
const SYSTEM_ANCHOR = 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}';

/**
 * Sub-request statuses of a $batch that are retried as single calls: those a single
 * call would retry, and 424 Failed Dependency (the batch stopped before this one).
 */
const RETRY_SUB_STATUSES = new Set([401, 408, 424, 429, 500, 502, 503, 504]);

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

type GroupHeader = Omit<ExchangeGroup, 'members'>;

/** A group found by a lookup, members not read yet. */
interface FoundGroup {
  header: GroupHeader;
  /**
   * Get-Group's `Members` (names) when it was found by Get-Group; null when that reply
   * had no readable `Members` list (the members are then unknown, never "none").
   */
  memberNames?: string[] | null;
}

/** What a Get-Recipient / Get-Group lookup found. */
type Lookup = { kind: 'group'; group: FoundGroup } | { kind: 'other' } | { kind: 'failed'; error: string };

/** One group with its direct members, the nested groups to read next, and member lookups that failed. */
interface Expanded {
  group: ExchangeGroup;
  nested: FoundGroup[];
  failed: FailedLookup[];
}

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
  private userNameSet: Promise<Set<string>> | undefined;
  /** Member reads, each group read once per client (keyed by lower-cased Guid or name). */
  private readonly groupReads = new Map<string, Promise<Expanded>>();
  /** Get-Recipient (then Get-Group) lookups per trustee (lower-cased). */
  private readonly trusteeLookups = new Map<string, Promise<Lookup>>();
  /** Get-Group lookups per identity (lower-cased). */
  private readonly groupLookups = new Map<string, Promise<Lookup>>();
  /** Non-empty `@adminapi.warnings`, once per cmdlet and text. */
  private readonly warnings = new Map<string, ServiceWarning>();

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
    return this.invokeMapped('Get-Mailbox', parameters, 'high', (o) => (isObject(o) ? toMailbox(o) : undefined), MAILBOX_PROPERTIES);
  }

  /** Every Exchange user with a UPN, all pages (read once per client). */
  listUsers(): Promise<ExchangeUser[]> {
    this.users ??= this.invokeMapped('Get-User', { ResultSize: 'Unlimited' }, 'high', (o) => (isObject(o) ? toUser(o) : undefined), USER_PROPERTIES);
    // A failed read must not stick: the next caller tries again.
    this.users.catch(() => {
      this.users = undefined;
    });
    return this.users;
  }

  /**
   * The lower-cased Names of the Exchange users (Get-Group names its members by Name),
   * worked out once. Without the user list every name is looked up: slower, never wrong.
   */
  private userNames(): Promise<Set<string>> {
    this.userNameSet ??= this.listUsers().then(
      (users) => new Set(users.flatMap((u) => (u.name !== undefined ? [u.name.toLowerCase()] : []))),
      () => new Set<string>(),
    );
    return this.userNameSet;
  }

  /** The `@adminapi.warnings` replies carried so far (a truncated reply, …), for the reviewer. */
  get serviceWarnings(): ServiceWarning[] {
    return [...this.warnings.values()];
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
    // Each reply is reduced to PermissionEntry rows as it arrives: the wire rows (and the
    // $batch body around them) are garbage at once instead of living until the last batch.
    const read = new Array<{ permissions: PermissionEntry[] } | { error: string }>(total);
    const keep = (i: number, r: CommandResult): void => {
      if (!r.ok) {
        read[i] = { error: r.error };
        return;
      }
      try {
        read[i] = { permissions: toPermissionEntries(r.items) };
      } catch (err) {
        read[i] = { error: errorText(err) };
      }
    };
    // ResultSize Unlimited: anything less may be cut with a page link that cannot be followed.
    const command = (m: Mailbox): Command => ({ cmdlet: 'Get-MailboxPermission', parameters: { Identity: mailboxIdentity(m), ResultSize: 'Unlimited' } });

    // At most READ_AHEAD round trips are started at a time (the limiter decides how many
    // are in flight): hundreds of $batch bodies parked in its queue would only hold memory.
    if (this.useBatch && total > 1) {
      const chunks: number[][] = [];
      for (let i = 0; i < total; i += this.batchSize) chunks.push(Array.from({ length: Math.min(this.batchSize, total - i) }, (_, k) => i + k));
      await runPool(chunks, READ_AHEAD, async (idx) => {
        const out = await this.runBatch(idx.map((i) => command(mailboxes[i] as Mailbox)), () => tick());
        idx.forEach((i, k) => keep(i, out[k] as CommandResult));
      });
    } else {
      await runPool(
        mailboxes.map((m, i) => [m, i] as const),
        READ_AHEAD,
        async ([m, i]) => {
          keep(i, await this.runSingle(command(m)));
          tick();
        },
      );
    }

    return mailboxes.map((m, i) => {
      const r = read[i] as { permissions: PermissionEntry[] } | { error: string };
      const { permissionError: _drop, ...rest } = m;
      if ('permissions' in r) return { ...rest, permissions: r.permissions };
      return { ...rest, permissions: null, permissionError: r.error };
    });
  }

  // -------------------------------------------------------------------------------
  // Group trustees

  /**
   * Resolve trustees that are not users and expand the groups among them, breadth
   * first, each group read once, so cycles end by themselves. Returns every group read,
   * with its direct members (core expands them), and every lookup that failed for good.
   *
   * A trustee is looked up with Get-Recipient; when that does not know it, with
   * Get-Group, which also finds security groups that are not mail-enabled (michev.info;
   * Microsoft Learn, Get-Recipient: mail-enabled objects only). Mail-enabled groups are
   * read with Get-DistributionGroupMember; the others list their members by name in
   * Get-Group's `Members`, and a name that is no Exchange user's Name is looked up with
   * Get-Group to find nested groups. A trustee Exchange does not know is left out (core
   * warns "unresolved trustee"). A lookup that failed is a FailedLookup, never a group:
   * it must not be confused with a group of the same name that another path resolved.
   */
  async resolveGroups(trustees: string[]): Promise<{ groups: ExchangeGroup[]; failedLookups: FailedLookup[] }> {
    const groups = new Map<string, ExchangeGroup>();
    const failed = new Map<string, FailedLookup>();
    const fail = (f: FailedLookup): void => {
      if (!failed.has(f.identity.toLowerCase())) failed.set(f.identity.toLowerCase(), f);
    };
    let frontier: FoundGroup[] = [];
    for (const [trustee, found] of await Promise.all(trustees.map(async (t) => [t, await this.lookupTrustee(t)] as const))) {
      if (found.kind === 'group') frontier.push(found.group);
      else if (found.kind === 'failed') fail({ identity: trustee, error: found.error });
    }
    // Breadth first: each level's member reads run in parallel (within the limiter).
    while (frontier.length > 0) {
      const level = await Promise.all(frontier.filter((g) => !groups.has(groupKey(g.header))).map((g) => this.expandGroup(g)));
      const next: FoundGroup[] = [];
      for (const r of level) {
        if (groups.has(groupKey(r.group))) continue;
        groups.set(groupKey(r.group), r.group);
        next.push(...r.nested.filter((n) => !groups.has(groupKey(n.header))));
        r.failed.forEach(fail);
      }
      frontier = next;
    }
    return {
      groups: [...groups.values()].sort((a, b) => byLower(a.name, b.name)),
      failedLookups: [...failed.values()].sort((a, b) => byLower(a.identity, b.identity)),
    };
  }

  /** Get-Recipient for one trustee (memoised); Get-Group when Get-Recipient does not know it. */
  private lookupTrustee(trustee: string): Promise<Lookup> {
    const key = trustee.toLowerCase();
    let p = this.trusteeLookups.get(key);
    if (!p) {
      p = this.invokeCommand('Get-Recipient', { Identity: trustee }).then(
        (items): Promise<Lookup> | Lookup => {
          const o = onlyObject(items, 'Get-Recipient', trustee);
          if (typeof o === 'string') return { kind: 'failed', error: o };
          if (!o) return this.lookupGroup(trustee);
          const header = toGroupHeader(o, trustee);
          return isGroupType(header.recipientTypeDetails) ? { kind: 'group', group: { header } } : { kind: 'other' };
        },
        (err: unknown): Promise<Lookup> | Lookup => (isNotFound(err) ? this.lookupGroup(trustee) : { kind: 'failed', error: errorText(err) }),
      );
      this.trusteeLookups.set(key, p);
    }
    return p;
  }

  /** Get-Group for one identity (memoised): finds groups whether mail-enabled or not. */
  private lookupGroup(identity: string): Promise<Lookup> {
    const key = identity.toLowerCase();
    let p = this.groupLookups.get(key);
    if (!p) {
      p = this.invokeCommand('Get-Group', { Identity: identity }).then(
        (items): Lookup => {
          const o = onlyObject(items, 'Get-Group', identity);
          if (typeof o === 'string') return { kind: 'failed', error: o };
          if (!o) return { kind: 'other' };
          const header = toGroupHeader(o, identity);
          if (!isGroupType(header.recipientTypeDetails)) return { kind: 'other' };
          return { kind: 'group', group: { header, memberNames: groupMemberNames(o) ?? null } };
        },
        (err: unknown): Lookup => (isNotFound(err) ? { kind: 'other' } : { kind: 'failed', error: errorText(err) }),
      );
      this.groupLookups.set(key, p);
    }
    return p;
  }

  /** The members of one group (memoised); a failed member read gives members: null + memberError. */
  private expandGroup(g: FoundGroup): Promise<Expanded> {
    const key = groupKey(g.header);
    let p = this.groupReads.get(key);
    if (!p) {
      p = isMailEnabledGroupType(g.header.recipientTypeDetails) ? this.distributionGroupMembers(g) : this.membersByName(g.header, g.memberNames);
      this.groupReads.set(key, p);
    }
    return p;
  }

  /**
   * Get-DistributionGroupMember: reduced recipients; those of a group type are nested
   * groups. A mail-enabled security group is read with Get-Group as well: a member that is
   * no recipient, such as a security group that is not mail-enabled (possible in groups
   * synced from Active Directory), cannot be among reduced recipients (Microsoft Learn,
   * Get-Recipient: mail-enabled objects only), yet its members hold the group's
   * FullAccess. Names Get-Group lists beyond the recipients are read as membersByName
   * reads them (a group found by Get-Group is not read again); a Get-Group that fails
   * leaves the members unknown (members: null).
   */
  private async distributionGroupMembers(g: FoundGroup): Promise<Expanded> {
    const { header } = g;
    const identity = header.guid ?? header.externalDirectoryObjectId ?? header.name;
    const unknown = (err: unknown): Expanded => unreadGroup(header, errorText(err));
    let members: GroupMember[];
    try {
      members = (await this.invokeCommand('Get-DistributionGroupMember', { Identity: identity, ResultSize: 'Unlimited' })).filter(isObject).map(toGroupMember);
    } catch (err) {
      return unknown(err);
    }
    const nested = members.filter((m) => isGroupType(m.recipientTypeDetails)).map((m): FoundGroup => ({ header: memberAsGroup(m) })).filter((n) => n.header.name !== '');
    if (!isSecurityGroupType(header.recipientTypeDetails)) return { group: { ...header, members }, nested, failed: [] };

    let names = g.memberNames;
    if (names === undefined) {
      const found = await this.lookupGroup(identity);
      if (found.kind === 'failed') return unreadGroup(header, found.error);
      if (found.kind === 'other') return unreadGroup(header, `Get-Group did not find '${header.name}', which Get-DistributionGroupMember read`);
      names = found.group.memberNames;
    }
    if (!names) return unreadGroup(header, NO_MEMBERS_LIST);
    const listed = new Set(members.flatMap((m) => (m.name !== undefined ? [m.name.toLowerCase()] : [])));
    const beyond = await this.membersByName(header, names.filter((n) => !listed.has(n.toLowerCase())));
    return { group: { ...header, members: [...members, ...(beyond.group.members ?? [])] }, nested: [...nested, ...beyond.nested], failed: beyond.failed };
  }

  /**
   * The members of a group that is not mail-enabled, from Get-Group's names: a user's
   * Name stays a `{ name }` member (core maps it through ExchangeUser.name); any other
   * name is looked up with Get-Group, and a group found becomes a member with its type
   * and guid (so core finds the nested group) and is expanded in turn.
   */
  private async membersByName(header: GroupHeader, names: string[] | null | undefined): Promise<Expanded> {
    if (!names) return unreadGroup(header, NO_MEMBERS_LIST);
    const userNames = names.length > 0 ? await this.userNames() : new Set<string>();
    const looked = await Promise.all(
      names.map(async (name) => [name, userNames.has(name.toLowerCase()) ? ({ kind: 'other' } as Lookup) : await this.lookupGroup(name)] as const),
    );
    const members: GroupMember[] = [];
    const nested: FoundGroup[] = [];
    const failed: FailedLookup[] = [];
    for (const [name, found] of looked) {
      if (found.kind === 'group') {
        members.push(groupAsMember(found.group.header));
        nested.push(found.group);
        continue;
      }
      members.push({ name });
      if (found.kind === 'failed') failed.push({ identity: name, error: found.error });
    }
    return { group: { ...header, members }, nested, failed };
  }

  // -------------------------------------------------------------------------------
  // InvokeCommand

  /**
   * Run a cmdlet and return its objects: every page when `ResultSize` is `Unlimited`,
   * else the one page the service sends (the link of a reply cut by ResultSize cannot
   * be followed; its `@adminapi.warnings` say so and are kept). A page link that has
   * expired ("Expired or Invalid pagination request") restarts the listing from the
   * first page, a bounded number of times; anything else that fails throws. `priority`
   * 'high' is for listings (see RequestOptions.priority).
   */
  async invokeCommand(cmdlet: string, parameters: Record<string, unknown> = {}, priority: Priority = 'normal'): Promise<unknown[]> {
    return this.invokeMapped(cmdlet, parameters, priority, (item) => item);
  }

  /**
   * invokeCommand, mapping each page's objects as it arrives (undefined drops one), so
   * a listing of tens of thousands of wire objects never sits in memory at once; with
   * `select`, only those properties are asked for (`$select`; next links carry it).
   */
  private async invokeMapped<T>(cmdlet: string, parameters: Record<string, unknown>, priority: Priority, map: (item: unknown) => T | undefined, select?: readonly string[]): Promise<T[]> {
    const body = JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters ?? {} } });
    const followLinks = isUnlimited(parameters);
    const firstUrl = select ? `${this.invokeUrl}?$select=${select.join(',')}` : this.invokeUrl;
    for (let restart = 0; ; restart++) {
      const items: T[] = [];
      let url: string | undefined = firstUrl;
      let page = 0;
      try {
        while (url !== undefined) {
          const res = await this.post(url, cmdlet, body, undefined, priority);
          const parsed = this.parsePage(res, url, cmdlet);
          this.noteWarnings(cmdlet, parameters, parsed.warnings);
          for (const item of parsed.items) {
            const mapped = map(item);
            if (mapped !== undefined) items.push(mapped);
          }
          url = followLinks && parsed.next !== undefined ? this.followable(parsed.next, url, cmdlet) : undefined;
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

  /** One reply: its objects, its page link (not yet checked) and its warnings. */
  private parsePage(res: HttpResponse, url: string, cmdlet: string): Page {
    const page = readPage(res.json<unknown>());
    if (page === undefined) {
      throw new OwnersyncError(`POST ${safeUrl(url)} (${cmdlet}) returned ${res.status} with a body that is no result (not an object with a "value" list); refusing to guess`);
    }
    return page;
  }

  /** Keep a reply's `@adminapi.warnings`, naming the object a per-object call was about. */
  private noteWarnings(cmdlet: string, parameters: Record<string, unknown>, warnings: string[]): void {
    const identity = str(parameters, 'Identity');
    for (const w of warnings) {
      const message = identity !== undefined ? `${w} (Identity '${identity}')` : w;
      const key = `${cmdlet.toLowerCase()}\u0000${message}`;
      if (!this.warnings.has(key)) this.warnings.set(key, { cmdlet, message });
    }
  }

  /** A next link resolved against the current URL; the token is only ever sent to the admin API's origin. */
  private followable(link: string, current: string, cmdlet: string): string {
    const next = new URL(link, current);
    if (next.origin !== new URL(this.invokeUrl).origin) {
      throw new OwnersyncError(`${cmdlet}: the admin API returned a page link to another host (${safeUrl(next)}); not following it`);
    }
    return next.toString();
  }

  /**
   * The documented InvokeCommand headers. A `$batch` envelope has no cmdlet of its own
   * and asks the service to run every sub-request even when one fails
   * (`odata.continue-on-error`, as the module and CIPP-API New-ExoRequest.ps1 do).
   */
  private headers(cmdlet: string | undefined, token: string): Record<string, string> {
    return {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-anchormailbox': `APP:${SYSTEM_ANCHOR}@${this.tenantId}`,
      ...(cmdlet !== undefined ? { 'x-cmdletname': cmdlet } : {}),
      'x-responseformat': 'json',
      prefer: cmdlet !== undefined ? `odata.maxpagesize=${this.pageSize}` : 'odata.continue-on-error',
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
          // "Busy" arrives as a 400 with a transient exception type: retried like a 503.
          retryable: isTransientReply,
          priority,
        });
      } catch (err) {
        throw explainAccess(toExchangeError(err), this.tenantId);
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
   * Up to 10 cmdlets in one `$batch` round trip. Sub-requests without a usable reply
   * (missing, throttled, failed on the server, 424 Failed Dependency, or a 400 with a
   * transient exception type) are retried one by one as single calls, which have the
   * full retry policy; a sub-response with more pages is re-read as a single call too.
   * If the service refuses `$batch` itself, batching is switched off for the rest of
   * the run and single calls are used.
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
        if (status === 400 && isTransientType(serviceException(body)?.type)) return single(c);
        if (status >= 200 && status < 300) {
          const page = readPage(body);
          if (page === undefined || page.next !== undefined) return single(c);
          this.noteWarnings(c.cmdlet, c.parameters, page.warnings);
          tick();
          return { ok: true, items: page.items };
        }
        tick();
        const why = serviceErrorText(body);
        return { ok: false, error: `${c.cmdlet} ${JSON.stringify(c.parameters.Identity ?? '')} failed in $batch: ${status}${why ? ` — ${why}` : ''}` };
      }),
    );
  }
}

/** One reply of InvokeCommand. */
interface Page {
  items: unknown[];
  /** `@odata.nextLink`, as sent. */
  next?: string;
  /** Non-empty texts of `@adminapi.warnings`. */
  warnings: string[];
}

/**
 * A reply body → its page, or undefined when it is no result. `value` absent, null or
 * [] is an empty result: all three are seen live (graph2otel internal/exoclient/
 * exoclient.go; CIPP-API New-ExoRequest.ps1 copes with a null value).
 */
function readPage(body: unknown): Page | undefined {
  // An error object is no result, whatever the status said: never "no rows".
  if (!isObject(body) || prop(body, 'error') !== undefined) return undefined;
  const value = body.value;
  if (value !== undefined && value !== null && !Array.isArray(value)) return undefined;
  const link = body['@odata.nextLink'];
  const raw = body['@adminapi.warnings'];
  const warnings = Array.isArray(raw) ? raw.flatMap((w) => (typeof w === 'string' && w.trim() !== '' ? [w.trim()] : [])) : [];
  return { items: Array.isArray(value) ? value : [], ...(typeof link === 'string' && link !== '' ? { next: link } : {}), warnings };
}

/** Why a group's members are unknown when Get-Group's reply has no list of them. */
const NO_MEMBERS_LIST = 'Get-Group returned no readable Members list';

/** A group whose members could not be read: core holds the removals of its mailboxes' groups. */
function unreadGroup(header: GroupHeader, memberError: string): Expanded {
  return { group: { ...header, members: null, memberError }, nested: [], failed: [] };
}

/**
 * The one object a lookup by Identity returned, undefined for none, or why it is no answer:
 * several objects for one Identity must not be resolved to the first of them.
 */
function onlyObject(items: unknown[], cmdlet: string, identity: string): WireObject | undefined | string {
  const objects = items.filter(isObject);
  if (objects.length > 1) return `${cmdlet} '${identity}' returned ${objects.length} objects, not one`;
  return objects[0];
}

/** Whether a call asks for every object (`ResultSize: Unlimited`): only then are page links followed. */
function isUnlimited(parameters: Record<string, unknown>): boolean {
  return str(parameters, 'ResultSize')?.trim().toLowerCase() === 'unlimited';
}

/** A group's identity key: its Guid when known, else its name. */
function groupKey(g: { guid?: string; name: string }): string {
  return (g.guid ?? `name:${g.name}`).toLowerCase();
}

function byLower(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A Get-DistributionGroupMember member of a group type → the header of that nested group. */
function memberAsGroup(m: GroupMember): GroupHeader {
  const g: GroupHeader = { name: m.name ?? m.displayName ?? m.primarySmtpAddress ?? m.guid ?? '', recipientTypeDetails: m.recipientTypeDetails ?? 'Unknown' };
  for (const k of ['displayName', 'primarySmtpAddress', 'guid', 'externalDirectoryObjectId'] as const) {
    if (m[k] !== undefined) g[k] = m[k];
  }
  return g;
}

/** A nested group found by name → the member core uses to find it (type, guid and ids). */
function groupAsMember(g: GroupHeader): GroupMember {
  const m: GroupMember = { name: g.name, recipientTypeDetails: g.recipientTypeDetails };
  for (const k of ['displayName', 'primarySmtpAddress', 'guid', 'externalDirectoryObjectId'] as const) {
    if (g[k] !== undefined) m[k] = g[k];
  }
  return m;
}
