/**
 * Shapes of apply's artefacts: the journal (one JSON line per outcome, append-only,
 * beside the plan), the drift report, and the receipt (what was done, as JSON).
 */
import type { Action } from '../core/types.js';

/**
 * `started` is written before a write is sent, and `done`/`already`/`failed` after it
 * returns. A `started` without an outcome marks a write that was in flight when the
 * process died: it may or may not have reached HelloID, which is why the drift check
 * accepts its effect as "in progress" and a re-run simply repeats it (writes are idempotent).
 */
export type JournalOutcome = 'started' | 'done' | 'already' | 'failed';

export interface JournalEntry {
  /** The plan digest the write belongs to; lines of other digests are ignored. */
  digest: string;
  groupGuid: string;
  userGuid: string;
  action: Action;
  outcome: JournalOutcome;
  /** ISO time the line was written. */
  at: string;
  /** For `failed`: what went wrong (method, URL, status; never secrets). */
  error?: string;
}

/**
 * Per change in the receipt:
 * - `done`: written now (added / removed);
 * - `already`: HelloID already had it (already-member / not-a-member, or seen in the members read before writing);
 * - `failed`: the write failed after the client's retries (`error` says why);
 * - `skipped`: journaled as done or already by an earlier run of the same plan, not written again.
 */
export type ChangeOutcome = 'done' | 'already' | 'failed' | 'skipped';

export interface ReceiptChange {
  action: Action;
  groupGuid: string;
  groupName: string;
  userGuid: string;
  userName: string;
  outcome: ChangeOutcome;
  /** When the outcome was recorded (for `skipped`: when the earlier run recorded it). */
  at: string;
  error?: string;
  note?: string;
}

export interface ReceiptSummary {
  total: number;
  done: number;
  already: number;
  failed: number;
  skipped: number;
}

export interface Receipt {
  receiptVersion: 1;
  /** The plan digest executed. */
  digest: string;
  startedAt: string;
  finishedAt: string;
  /** `applied` when nothing failed, `partial` otherwise (re-run to resume). */
  status: 'applied' | 'partial';
  /** 0, or 4 when any change failed. */
  exitCode: 0 | 4;
  summary: ReceiptSummary;
  changes: ReceiptChange[];
  journalPath: string;
}

/**
 * - `pending`: current members equal the observed set (nothing applied yet);
 * - `done`: current members equal the planned set;
 * - `in-progress`: between the two, every difference being a planned change the journal shows was attempted;
 * - `drifted`: anything else.
 */
export type GroupState = 'pending' | 'done' | 'in-progress' | 'drifted';

export interface GroupDrift {
  groupGuid: string;
  groupName: string;
  state: GroupState;
  /** Members present now that neither the plan nor a journaled write explains. */
  unexpectedMembers: string[];
  /** Members missing now that neither the plan nor a journaled write explains. */
  missingMembers: string[];
  /** Current members (normalised to lower case, sorted). */
  currentMembers: string[];
}

export interface DriftReport {
  /** `drifted` if any group drifted; `already-applied` if every group is done; else `ready`. */
  status: 'ready' | 'already-applied' | 'drifted';
  perGroup: GroupDrift[];
}
