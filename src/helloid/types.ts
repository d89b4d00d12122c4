/** The HelloID operations apply needs; implemented by the HelloID client over HTTPS. */

export type AddOutcome = 'added' | 'already-member';
export type RemoveOutcome = 'removed' | 'not-a-member';

export interface HelloIdWriteApi {
  /** Current member userGUIDs of a group (fresh read, no cache). */
  getGroupMembers(groupGuid: string): Promise<string[]>;
  /** Idempotent: adding an existing member is 'already-member', not an error. Retries 429/5xx/network itself. */
  addMember(groupGuid: string, userGuid: string): Promise<AddOutcome>;
  /** Idempotent: a 404 for a non-member is 'not-a-member', not an error. Retries 429/5xx/network itself. */
  removeMember(groupGuid: string, userGuid: string): Promise<RemoveOutcome>;
}
