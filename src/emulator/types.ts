/**
 * Public types of the emulator: the tenant fixture (mirrors
 * schemas/tenant-fixture.schema.json), the wire-shape options, the fault controls and
 * the stats. Kept apart from the clients' types on purpose: the emulator is an
 * independent reading of docs/wire-formats.md, so a misunderstanding cannot hide on
 * both sides of the wire.
 */

// ---------------------------------------------------------------- fixture

export interface FixtureApp {
  clientId: string;
  displayName?: string;
  secret?: string;
  secrets?: string[];
  /** Public certificate (PEM) registered on the app. */
  certificate?: string;
  certificates?: string[];
  /** Default ["Exchange.ManageAsApp"]. */
  roles?: string[];
  /** Default ["Global Reader"]. */
  directoryRoles?: string[];
}

export interface FixtureExchangeUser {
  upn: string;
  displayName?: string;
  name?: string;
  alias?: string;
  primarySmtpAddress?: string;
  objectId?: string;
  guid?: string;
  recipientTypeDetails?: 'UserMailbox' | 'User' | 'MailUser' | 'DisabledUser';
}

export interface FixturePermission {
  user: string;
  accessRights: string[] | string;
  isInherited?: boolean;
  deny?: boolean;
  inheritanceType?: string;
}

export interface FixtureMailbox {
  displayName: string;
  primarySmtpAddress: string;
  name?: string;
  alias?: string;
  userPrincipalName?: string;
  guid?: string;
  objectId?: string;
  type?: 'shared' | 'user' | 'room' | 'equipment';
  permissions?: FixturePermission[];
}

export interface FixtureMailGroup {
  name: string;
  displayName?: string;
  alias?: string;
  primarySmtpAddress?: string;
  type: 'security' | 'distribution';
  /**
   * Default true. A security group that is not mail-enabled (RecipientTypeDetails
   * UniversalSecurityGroup) is found by Get-Group only, never by Get-Recipient or
   * Get-DistributionGroupMember, and cannot have a primarySmtpAddress. It may be a member
   * of a mail-enabled security group (as groups synced from Active Directory can), where
   * Get-Group lists it and Get-DistributionGroupMember does not.
   */
  mailEnabled?: boolean;
  guid?: string;
  objectId?: string;
  members?: string[];
}

export interface FixtureHelloIdUser {
  userName: string;
  userGUID?: string;
  firstName?: string;
  lastName?: string;
  contactEmail?: string;
  isEnabled?: boolean;
  source?: string;
  /**
   * A deleted user: left out of GET /users (unless ?isDeleted=true), 404 on
   * GET /users/{guid}, but its GUID stays in the groups that list it as a member.
   */
  isDeleted?: boolean;
}

export interface FixtureHelloIdGroup {
  name: string;
  groupGuid?: string;
  source?: string | null;
  isEnabled?: boolean;
  isDefault?: boolean;
  managedByUserGuid?: string | null;
  members?: string[];
}

export interface TenantFixture {
  formatVersion?: 1;
  tenant: { id: string; organization: string; displayName?: string };
  apps: FixtureApp[];
  exchange?: {
    selfPermissionRows?: boolean;
    users?: FixtureExchangeUser[];
    mailboxes?: FixtureMailbox[];
    groups?: FixtureMailGroup[];
  };
  helloid?: {
    apiKeys: { key: string; secret: string; enabled?: boolean }[];
    users?: FixtureHelloIdUser[];
    groups?: FixtureHelloIdGroup[];
  };
}

// ---------------------------------------------------------------- options

export type Service = 'entra' | 'exchange' | 'helloid';
export const SERVICES: readonly Service[] = ['entra', 'exchange', 'helloid'];

/** Wire-shape choices where docs/wire-formats.md marks a shape [inferred] or variable. */
export interface EmulatorOptions {
  entra: {
    /** Resources a token may be asked for (v1 `resource`, v2 `scope` = resource + "/.default"). */
    acceptedResources: string[];
  };
  exchange: {
    /** Server-side page cap; `Prefer: odata.maxpagesize` above it is lowered to it. */
    maxPageSize: number;
    /** ResultSize when the request names none. */
    defaultResultSize: number;
    /** Permission row IsInherited/Deny: JSON booleans, or "True"/"False" strings. */
    booleanStyle: 'boolean' | 'string';
    /** `flat` rows, or the Get-EXO REST form that wraps rights in PermissionList[]. */
    permissionRowStyle: 'flat' | 'permissionList';
    /** AccessRights as a JSON array, or one comma-joined string ("FullAccess, ReadPermission"). */
    accessRightsStyle: 'array' | 'string';
    /** Include UserPrincipalName on Get-DistributionGroupMember rows. */
    memberUpn: boolean;
    /** An empty result's `value`: left out (the default, as live), null, or []. All three are seen live. */
    emptyValue: 'absent' | 'null' | 'empty';
    /** Emit Rate-Limit-Remaining and X-Concurrencycount headers. */
    rateLimitHeaders: boolean;
  };
  helloid: {
    defaultTake: number;
    /** Server-side cap on `take`. */
    maxTake: number;
    /** Status for DELETE of a user that is not a member. */
    nonMemberDeleteStatus: 200 | 404;
    /** Property that carries error text (all four seen in the Tools4everBV HelloID-Conn-* scripts). */
    errorField: 'message' | 'resultMsg' | 'textResult' | 'error';
    /** List replies: a plain array (documented default), or wrapped as {"pageData":[…]} or {"data":[…]}. */
    listWrapper: 'plain' | 'pageData' | 'data';
    /** Body of a successful add/remove: none, or a small JSON object. */
    writeResponse: 'empty' | 'json';
  };
  /** Request log entries kept (oldest dropped first). */
  logLimit: number;
  /** Token for /_emulator/* (generated when absent). */
  controlToken?: string;
  /** Where to write the CA certificate; default a fresh temp dir removed at stop(). */
  caPath?: string;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

// ---------------------------------------------------------------- faults

/**
 * A targeted fault. Every given matcher must match; `times` (when set) counts down
 * each time the rule fires and the rule is inert at 0.
 */
export interface FaultRule {
  service?: Service;
  method?: string;
  /** Substring of the path (query included), or a regular expression when it starts with '^'. */
  path?: string;
  /** Exchange cmdlet name (case-insensitive). For $batch: any sub-request. */
  cmdlet?: string;
  /** Exchange Identity parameter: equal (case-insensitive) or resolving to the same object. */
  identity?: string;
  action: 'error' | 'reset' | 'hang';
  /** For 'error' (default 500, or 400 with `exception`). 429 and 503 carry Retry-After; an Exchange 403 has the NUL-byte body. */
  status?: number;
  /**
   * Exchange 'error' rules: answer with the cmdlet error envelope of this exception type,
   * e.g. "ServerBusyException" (a transient 400, see TRANSIENT_EXCEPTIONS) or
   * "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException".
   */
  exception?: string;
  /** For 'hang' (default Faults.hangMs). */
  hangMs?: number;
  times?: number;
}

export interface Faults {
  /** Added to every (non-control) request. */
  latencyMs: number;
  /** Per-service latency, added to latencyMs. */
  serviceLatencyMs: Partial<Record<Service, number>>;
  /** In-flight limit per service; a request above it gets 429 with Retry-After. 0/absent = none. */
  concurrency: Partial<Record<Service, number>>;
  /** Retry-After on 429/503 (seconds, may be fractional). */
  retryAfterSeconds: number;
  /** Fraction (0..1) of requests answered with a random status from randomFailStatuses. */
  randomFailRate: number;
  randomFailStatuses: number[];
  /** Fraction (0..1) of requests whose socket is destroyed. */
  resetRate: number;
  /** Fraction (0..1) of Exchange requests answered with a transient HTTP 400 (ServerBusyException, …). */
  transientRate: number;
  /** Services the random faults apply to (default all). */
  randomServices: Service[];
  /** Seed of the PRNG behind the random faults; setting it restarts the sequence. */
  seed: number;
  /** How long a hanging response is held before it is answered normally. */
  hangMs: number;
  rules: FaultRule[];
  /** Lifetime of issued access tokens (seconds, may be fractional). */
  tokenLifetimeSeconds: number;
  /** Age after which an Exchange $skiptoken is refused (seconds). */
  pageLinkTtlSeconds: number;
  /**
   * HelloID offset paging is not a snapshot: delete this user (userName or userGUID)
   * once `afterPages` pages of GET /api/v1/users have been served, so every later
   * page shifts by one and the first user of the next page is never listed. Fires
   * once, then clears itself. null/absent = off.
   */
  helloidDeleteUserWhilePaging?: { user: string; afterPages: number } | null;
}

// ---------------------------------------------------------------- stats

export interface Counter {
  requests: number;
  status2xx: number;
  status4xx: number;
  status429: number;
  status5xx: number;
  /** Sockets destroyed by a reset fault. */
  resets: number;
  /** Responses held by a hang fault. */
  hangs: number;
  /** Sum of response times (ms). */
  totalMs: number;
}

export interface ServiceCounter extends Counter {
  inFlight: number;
  maxInFlight: number;
}

export interface LogEntry {
  at: string;
  method: string;
  path: string;
  service: Service;
  route: string;
  cmdlet?: string;
  identity?: string;
  /** 0 when the connection was reset. */
  status: number;
  ms: number;
  fault?: string;
}

export interface Stats {
  startedAt: string;
  totals: Counter;
  services: Record<Service, ServiceCounter>;
  /** Keyed "<service> <METHOD> <route template>", Exchange also by cmdlet. */
  routes: Record<string, Counter>;
  /** Per Exchange cmdlet, $batch sub-requests included. */
  cmdlets: Record<string, Counter>;
  log: LogEntry[];
}
