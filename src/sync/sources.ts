/**
 * What the plan orchestrator needs from each service, phase by phase, so the phases
 * can overlap: HelloID lists run beside the Exchange mailbox listing, and owner-group
 * member reads run beside the Exchange permission reads.
 */
import type { ExchangeGroup, ExchangeUser, FailedLookup, HelloIdGroup, HelloIdUser, Mailbox, ServiceWarning } from '../core/types.js';

export interface ExchangeSource {
  /**
   * Every in-scope shared mailbox (all pages); `permissions` not read yet. Throws on
   * failure: never partial. `filter` overrides exchange.mailboxFilter; '' lists every
   * shared mailbox (to find owner groups shared with mailboxes outside the filter).
   */
  listMailboxes(filter?: string): Promise<Mailbox[]>;
  /** Every Exchange user (all pages). Throws on failure. */
  listUsers(): Promise<ExchangeUser[]>;
  /** Fill `permissions` (null + permissionError when a mailbox's read fails for good). */
  readPermissions(mailboxes: Mailbox[], onProgress?: (done: number, total: number) => void): Promise<Mailbox[]>;
  /** Resolve trustees that are not users; expand groups recursively, each read once; lookups that failed apart. */
  resolveGroups(trustees: string[]): Promise<{ groups: ExchangeGroup[]; failedLookups: FailedLookup[] }>;
  /** `@adminapi.warnings` the replies carried so far. */
  readonly serviceWarnings?: readonly ServiceWarning[];
}

export interface HelloIdSource {
  /** Every HelloID user (all pages). Throws on failure. */
  listUsers(): Promise<HelloIdUser[]>;
  /** Every HelloID group (all pages), members not read. Throws on failure. */
  listGroups(): Promise<HelloIdGroup[]>;
  /** Members of just these groups; an Error per group whose read failed for good. */
  readMembers(groupGuids: string[], onProgress?: (done: number, total: number) => void): Promise<Map<string, string[] | Error>>;
  /** Users by GUID, each on its own: the user, null when HelloID does not know it (404), or the Error of a failed lookup. */
  lookupUsers(userGuids: readonly string[]): Promise<Map<string, HelloIdUser | null | Error>>;
}
