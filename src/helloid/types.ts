/** The HelloID operations apply needs; implemented by the HelloID client over HTTPS. */
import type { HelloIdUser } from '../core/types.js';

export type AddOutcome = 'added' | 'already-member';
export type RemoveOutcome = 'removed' | 'not-a-member';

/** One group as HelloID shows it now (GET /api/v1/groups/{guid}). */
export interface LiveGroup {
  groupGuid: string;
  name: string;
  /** null or "" means Local. */
  source: string | null;
  members: string[];
}

/** Options of one write. */
export interface WriteOptions {
  /**
   * Called once, just before the write is first sent (when the implementation bounds
   * its own requests in flight: once it holds a slot). If it throws, nothing is sent
   * and the write rejects with that error. Apply journals the write's intent here.
   */
  beforeSend?: () => Promise<void> | void;
}

export interface HelloIdWriteApi {
  /**
   * True when the implementation bounds its own requests in flight and gives its slot
   * back while it waits to retry (the HTTP client's limiter does). Apply may then keep
   * more calls going than apply.concurrency: the extra ones queue in the limiter, so a
   * call waiting out a Retry-After does not leave a worker idle. Absent: apply itself
   * keeps at most apply.concurrency calls going.
   */
  readonly boundsInFlight?: boolean;
  /** A group's name, source and members in one fresh read; undefined when HelloID answers 404 "Group not found". */
  getGroup(groupGuid: string): Promise<LiveGroup | undefined>;
  /** Every user the list returns (paged; deleted users are not in it). Optional: apply reads users one by one without it. */
  listUsers?(): Promise<HelloIdUser[]>;
  /** One user by GUID; undefined when HelloID answers 404. */
  getUser(userGuid: string): Promise<HelloIdUser | undefined>;
  /** Idempotent: adding an existing member is 'already-member', not an error. Retries 429/5xx/network itself. */
  addMember(groupGuid: string, userGuid: string, options?: WriteOptions): Promise<AddOutcome>;
  /** Idempotent: a 404 for a non-member is 'not-a-member', not an error. Retries 429/5xx/network itself. */
  removeMember(groupGuid: string, userGuid: string, options?: WriteOptions): Promise<RemoveOutcome>;
}
