/**
 * Execute a verified plan: every change once, at most `concurrency` writes in flight,
 * every outcome journaled, and one failed write never stopping the others (the original
 * task aborted on the first failure and left HelloID half-done with no record).
 *
 * Throughput under throttling: a write answered 429 waits out its Retry-After (a second
 * or more) before it is sent again. When the API bounds its own requests in flight and
 * holds no slot while it waits (HelloIdWriteApi.boundsInFlight), more writes are kept
 * going than `concurrency` (see workersFor), so the waiting ones do not leave the
 * service idle. Writes go out group by group in turn (interleaveByGroup), so the writes
 * in flight at once touch different groups rather than queue up on one.
 *
 * Retrying 429/5xx/network errors is the HelloID client's job; here a write that
 * still fails is recorded as failed, the receipt says so, and the exit code is 4.
 * A re-run of the same plan reads the journal and skips what is already done.
 */
import { OwnersyncError } from '../errors.js';
import { redact } from '../redact.js';
import type { Change } from '../core/types.js';
import type { HelloIdWriteApi } from '../helloid/types.js';
import { writeFileAtomic } from '../plan/plan-file.js';
import type { PlanFile } from '../plan/types.js';
import { JournalWriter, journalKey, readJournal, settledChanges } from './journal.js';
import { runPool } from '../pool.js';
import type { ChangeOutcome, JournalEntry, Receipt, ReceiptChange, ReceiptSummary } from './types.js';

export interface ExecuteProgress {
  /** Changes finished so far (skipped ones included). */
  finished: number;
  total: number;
  change: ReceiptChange;
}

export interface ExecuteOptions {
  /** HelloID writes in flight at once (apply.concurrency). */
  concurrency: number;
  /** `<plan>.journal.jsonl`; created when missing, appended to otherwise. */
  journalPath: string;
  /** Where to write the receipt JSON (`<plan>.receipt.json`); not written when omitted. */
  receiptPath?: string;
  onProgress?: (p: ExecuteProgress) => void;
  /** Clock for journal and receipt times. @default () => new Date() */
  now?: () => Date;
  /**
   * Members read just before executing (from the drift check), by group guid. A change
   * already in effect there is recorded as `already` without a write. (A change the
   * journal calls settled but that is not in effect any more cannot get here through
   * applyPlan: the drift check refuses it. Called directly, it is written again.)
   */
  currentMembers?: ReadonlyMap<string, readonly string[]>;
  /** fsync every journal line. @default true */
  durableJournal?: boolean;
}

/**
 * Calls waiting out a Retry-After that apply keeps going beside the `concurrency` ones.
 * At the concurrency limit a service answers about concurrency ÷ latency requests a
 * second (10 ÷ 40 ms = 250/s); with 10% of them refused for 1 s, about 25 calls wait at
 * any moment. 64 covers that with room to spare, and costs a pending promise each.
 */
const RETRY_HEADROOM = 64;

/**
 * Calls to keep going at once: `concurrency` when the API relies on apply to bound it,
 * more when it bounds itself and gives its slot back while a retry waits.
 */
export function workersFor(api: Pick<HelloIdWriteApi, 'boundsInFlight'>, concurrency: number): number {
  return api.boundsInFlight === true ? concurrency + RETRY_HEADROOM : concurrency;
}

/**
 * Indexes of `changes` in execution order: the first change of each group, then the
 * second of each, and so on. Plans list a group's changes together; sent in that order,
 * the writes in flight at once would mostly hit the same group, which a service may
 * serialise (a group's member list is one record). The receipt keeps the plan's order.
 */
export function interleaveByGroup(changes: readonly Change[]): number[] {
  const byGroup = new Map<string, number[]>();
  changes.forEach((c, i) => {
    const key = c.groupGuid.toLowerCase();
    const list = byGroup.get(key);
    if (list) list.push(i);
    else byGroup.set(key, [i]);
  });
  const order: number[] = [];
  const lists = [...byGroup.values()];
  for (let round = 0; order.length < changes.length; round++) {
    for (const list of lists) if (round < list.length) order.push(list[round]!);
  }
  return order;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return redact(text || 'unknown error');
}

/** Run the plan's changes against HelloID; resolves with the receipt (never rejects for a failed write). */
export async function executePlan(plan: PlanFile, api: HelloIdWriteApi, options: ExecuteOptions): Promise<Receipt> {
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const settled = settledChanges(readJournal(options.journalPath, plan.digest));
  const current = new Map<string, Set<string>>();
  for (const [g, members] of options.currentMembers ?? []) current.set(g.toLowerCase(), new Set(members.map((m) => m.toLowerCase())));

  const journal = new JournalWriter(options.journalPath, { durable: options.durableJournal ?? true });
  const results: ReceiptChange[] = new Array(plan.changes.length);
  let finished = 0;

  const record = (index: number, change: Change, outcome: ChangeOutcome, at: string, extra: { error?: string; note?: string } = {}): void => {
    const r: ReceiptChange = {
      action: change.action,
      groupGuid: change.groupGuid,
      groupName: change.groupName,
      userGuid: change.userGuid,
      userName: change.userName,
      outcome,
      at,
      ...extra,
    };
    results[index] = r;
    finished++;
    options.onProgress?.({ finished, total: plan.changes.length, change: r });
  };

  const line = (change: Change, outcome: JournalEntry['outcome'], error?: string): JournalEntry => {
    const entry: JournalEntry = {
      digest: plan.digest,
      groupGuid: change.groupGuid,
      userGuid: change.userGuid,
      action: change.action,
      outcome,
      at: now().toISOString(),
    };
    if (error !== undefined) entry.error = error;
    return entry;
  };

  try {
    await runPool(interleaveByGroup(plan.changes), workersFor(api, options.concurrency), async (index) => {
      const change = plan.changes[index]!;
      const key = journalKey(change.groupGuid, change.userGuid, change.action);
      const earlier = settled.get(key);
      const members = current.get(change.groupGuid.toLowerCase());
      // What HelloID showed just before executing, when known: true = already in effect.
      const inEffect = members ? (change.action === 'add') === members.has(change.userGuid.toLowerCase()) : undefined;

      // Journaled as settled by an earlier run — unless the fresh read shows it undone
      // since, in which case the approved change is simply made again.
      if (earlier && inEffect !== false) {
        record(index, change, 'skipped', earlier.at, { note: `journaled as ${earlier.outcome} by an earlier run of this plan` });
        return;
      }

      if (inEffect === true) {
        const entry = line(change, 'already');
        let note = 'already in effect when apply read the group';
        try {
          await journal.append(entry);
        } catch (err) {
          note += `; not journaled: ${errorText(err)}`;
        }
        record(index, change, 'already', entry.at, { note });
        return;
      }

      // Journal the intent just before the write goes out (the api calls beforeSend once
      // it holds a slot): if the process dies mid-write, the re-run's drift check knows
      // this change may have landed — and a write still queued for a slot is not in
      // that state, so a kill leaves no more `started` lines than writes in flight.
      let journalError: unknown;
      const beforeSend = async (): Promise<void> => {
        try {
          await journal.append(line(change, 'started'));
        } catch (err) {
          journalError = err;
          throw err;
        }
      };

      let outcome: ChangeOutcome;
      let error: string | undefined;
      try {
        const res =
          change.action === 'add' ? await api.addMember(change.groupGuid, change.userGuid, { beforeSend }) : await api.removeMember(change.groupGuid, change.userGuid, { beforeSend });
        outcome = res === 'added' || res === 'removed' ? 'done' : 'already';
      } catch (err) {
        if (journalError !== undefined) {
          record(index, change, 'failed', now().toISOString(), { error: `not attempted: cannot write the journal: ${errorText(journalError)}` });
          return;
        }
        outcome = 'failed';
        error = errorText(err);
      }

      const entry = line(change, outcome as JournalEntry['outcome'], error);
      const extra: { error?: string; note?: string } = {};
      if (error !== undefined) extra.error = error;
      try {
        await journal.append(entry);
      } catch (err) {
        extra.note = `not journaled: ${errorText(err)}`;
      }
      record(index, change, outcome, entry.at, extra);
    });
  } finally {
    journal.close();
  }

  const summary: ReceiptSummary = { total: results.length, done: 0, already: 0, failed: 0, skipped: 0 };
  for (const r of results) summary[r.outcome]++;
  const receipt: Receipt = {
    receiptVersion: 1,
    digest: plan.digest,
    startedAt,
    finishedAt: now().toISOString(),
    status: summary.failed > 0 ? 'partial' : 'applied',
    exitCode: summary.failed > 0 ? 4 : 0,
    summary,
    changes: results,
    journalPath: options.journalPath,
  };
  if (options.receiptPath) {
    try {
      writeFileAtomic(options.receiptPath, `${JSON.stringify(receipt, null, 2)}\n`);
    } catch (err) {
      throw new OwnersyncError(
        `apply finished (${summary.done} done, ${summary.already} already, ${summary.failed} failed; see ${options.journalPath}) ` +
          `but the receipt cannot be written: ${errorText(err)}`,
        undefined,
        { cause: err },
      );
    }
  }
  return receipt;
}
