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

export interface HelloIdWriteApi {
  /** Current member userGUIDs of a group (fresh read, no cache). */
  getGroupMembers(groupGuid: string): Promise<string[]>;
  /** A group's name, source and members in one fresh read. */
  getGroup(groupGuid: string): Promise<LiveGroup>;
  /** One user by GUID; undefined when HelloID answers 404. */
  getUser(userGuid: string): Promise<HelloIdUser | undefined>;
  /** Idempotent: adding an existing member is 'already-member', not an error. Retries 429/5xx/network itself. */
  addMember(groupGuid: string, userGuid: string): Promise<AddOutcome>;
  /** Idempotent: a 404 for a non-member is 'not-a-member', not an error. Retries 429/5xx/network itself. */
  removeMember(groupGuid: string, userGuid: string): Promise<RemoveOutcome>;
}
