import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { executePlan } from '../../src/apply/execute.js';
import { readJournal } from '../../src/apply/journal.js';
import type { JournalEntry, Receipt } from '../../src/apply/types.js';
import { clearSecrets, registerSecret } from '../../src/redact.js';
import { G, makePlan, tempDir, U } from '../plan/helpers.js';
import { FakeHelloId } from './fake-helloid.js';

let dir: string;
let cleanup: () => void;
let journalPath: string;
let receiptPath: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  journalPath = join(dir, 'plan.yaml.journal.jsonl');
  receiptPath = join(dir, 'plan.yaml.receipt.json');
});
afterEach(() => {
  cleanup();
  clearSecrets();
});

const clock = (): (() => Date) => {
  let t = Date.parse('2025-03-01T12:00:00.000Z');
  return () => new Date((t += 1000));
};

describe('executePlan', () => {
  it('applies every change, journals each outcome, writes the receipt', async () => {
    const plan = makePlan();
    const api = FakeHelloId.fromPlan(plan);
    const progress: number[] = [];
    const receipt = await executePlan(plan, api, { concurrency: 2, journalPath, receiptPath, now: clock(), onProgress: (p) => progress.push(p.finished) });

    for (const g of plan.groups) expect(api.sorted(g.groupGuid)).toEqual([...g.plannedMembers].sort());
    expect(receipt.exitCode).toBe(0);
    expect(receipt.status).toBe('applied');
    expect(receipt.summary).toEqual({ total: 4, done: 4, already: 0, failed: 0, skipped: 0 });
    expect(receipt.digest).toBe(plan.digest);
    expect(receipt.changes.map((c) => [c.action, c.userGuid, c.outcome])).toEqual(plan.changes.map((c) => [c.action, c.userGuid, 'done']));
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(JSON.parse(readFileSync(receiptPath, 'utf8'))).toEqual(receipt);

    const lines = readFileSync(journalPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JournalEntry);
    expect(lines).toHaveLength(8);
    expect(lines.filter((l) => l.outcome === 'started')).toHaveLength(4);
    expect(lines.filter((l) => l.outcome === 'done')).toHaveLength(4);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['action', 'at', 'digest', 'groupGuid', 'outcome', 'userGuid']);
      expect(l.digest).toBe(plan.digest);
    }
  });

  it('counts already-member and not-a-member as done (idempotent)', async () => {
    const plan = makePlan();
    const api = FakeHelloId.fromPlan(plan);
    api.members.get(G(1))!.add(U(3)); // add target already there
    api.members.get(G(1))!.delete(U(2)); // remove target already gone
    const receipt = await executePlan(plan, api, { concurrency: 4, journalPath });
    expect(receipt.exitCode).toBe(0);
    expect(receipt.summary).toMatchObject({ done: 2, already: 2, failed: 0 });
    expect(receipt.changes.filter((c) => c.groupGuid === G(1)).map((c) => c.outcome)).toEqual(['already', 'already']);
  });

  it('a failed write gives exit 4, never stops the others, and is journaled with its error (redacted)', async () => {
    const plan = makePlan({ extraGroups: 5 });
    const api = FakeHelloId.fromPlan(plan);
    api.failing.add(`${G(1)}/${U(3)}`);
    registerSecret('503 Service'); // pretend the error text contained a secret
    const receipt = await executePlan(plan, api, { concurrency: 3, journalPath, receiptPath });
    expect(receipt.exitCode).toBe(4);
    expect(receipt.status).toBe('partial');
    expect(receipt.summary).toEqual({ total: plan.changes.length, done: plan.changes.length - 1, already: 0, failed: 1, skipped: 0 });
    const failed = receipt.changes.find((c) => c.outcome === 'failed')!;
    expect(failed).toMatchObject({ groupGuid: G(1), userGuid: U(3), action: 'add' });
    expect(failed.error).toContain('POST https://contoso.helloid.com/api/v1/groups/');
    expect(failed.error).toContain('***');
    expect(failed.error).not.toContain('503 Service');
    // Every other change reached HelloID.
    expect(api.writes).toHaveLength(plan.changes.length);
    const journal = readJournal(journalPath, plan.digest);
    expect(journal.find((e) => e.outcome === 'failed')).toMatchObject({ userGuid: U(3), error: failed.error });
  });

  it('resumes from the journal: done changes are skipped, failed ones retried, no write repeated', async () => {
    const plan = makePlan({ extraGroups: 4 });
    const api = FakeHelloId.fromPlan(plan);
    api.failing.add(`${G(2)}/${U(5)}`);
    const first = await executePlan(plan, api, { concurrency: 2, journalPath });
    expect(first.exitCode).toBe(4);
    const writesAfterFirst = api.writes.length;

    api.failing.clear();
    const second = await executePlan(plan, api, { concurrency: 2, journalPath, receiptPath });
    expect(second.exitCode).toBe(0);
    expect(second.summary).toEqual({ total: plan.changes.length, done: 1, already: 0, failed: 0, skipped: plan.changes.length - 1 });
    expect(api.writes.slice(writesAfterFirst)).toEqual([{ op: 'add', groupGuid: G(2), userGuid: U(5) }]);
    const skipped = second.changes.find((c) => c.outcome === 'skipped')!;
    expect(skipped.note).toMatch(/journaled as done by an earlier run/);

    const third = await executePlan(plan, api, { concurrency: 2, journalPath });
    expect(third.summary.skipped).toBe(plan.changes.length);
    expect(api.writes.length).toBe(writesAfterFirst + 1);
  });

  it('ignores journal lines of another digest and torn lines', async () => {
    const plan = makePlan();
    const other: JournalEntry = { digest: `sha256:${'0'.repeat(64)}`, groupGuid: G(1), userGuid: U(3), action: 'add', outcome: 'done', at: '2025-01-01T00:00:00.000Z' };
    writeFileSync(journalPath, `${JSON.stringify(other)}\nnot json\n{"digest":"${plan.digest}","groupGuid":"${G(1)}","userGu`);
    appendFileSync(journalPath, '\n');
    const api = FakeHelloId.fromPlan(plan);
    const receipt = await executePlan(plan, api, { concurrency: 1, journalPath });
    expect(receipt.summary).toMatchObject({ done: 4, skipped: 0 });
    expect(api.writes).toHaveLength(4);
  });

  it('records changes already in effect in the members read before writing as already, without a write', async () => {
    const plan = makePlan();
    const api = FakeHelloId.fromPlan(plan);
    const current = new Map([[G(1), [U(1), U(3)]]]); // Finance already at planned
    const receipt = await executePlan(plan, api, { concurrency: 2, journalPath, currentMembers: current });
    expect(receipt.changes.filter((c) => c.groupGuid === G(1)).map((c) => [c.outcome, c.note])).toEqual([
      ['already', 'already in effect when apply read the group'],
      ['already', 'already in effect when apply read the group'],
    ]);
    expect(api.writes.map((w) => w.groupGuid)).toEqual([G(2), G(2)]);
    // ...and those are journaled, so a re-run skips them too.
    expect(readJournal(journalPath, plan.digest).filter((e) => e.outcome === 'already')).toHaveLength(2);
  });

  it('re-makes a journaled change that the fresh read shows was undone since', async () => {
    const plan = makePlan();
    const api = FakeHelloId.fromPlan(plan);
    await executePlan(plan, api, { concurrency: 2, journalPath });
    api.members.get(G(2))!.delete(U(4)); // someone removed an added owner after the first run
    const before = api.writes.length;
    const receipt = await executePlan(plan, api, {
      concurrency: 2,
      journalPath,
      currentMembers: new Map(plan.groups.map((g) => [g.groupGuid, api.sorted(g.groupGuid)])),
    });
    expect(api.writes.slice(before)).toEqual([{ op: 'add', groupGuid: G(2), userGuid: U(4) }]);
    expect(receipt.summary).toMatchObject({ done: 1, skipped: 3 });
    expect(api.sorted(G(2))).toEqual([...plan.groups[1]!.plannedMembers].sort());
  });

  it.each([1, 3, 8])('never has more than %i writes in flight', async (concurrency) => {
    const plan = makePlan({ extraGroups: 10, usersPerExtraGroup: 3 });
    const api = FakeHelloId.fromPlan(plan);
    api.delayMs = 2;
    const receipt = await executePlan(plan, api, { concurrency, journalPath, durableJournal: false });
    expect(receipt.exitCode).toBe(0);
    expect(api.maxInFlight).toBeLessThanOrEqual(concurrency);
    expect(api.maxInFlight).toBe(Math.min(concurrency, plan.changes.length));
  });

  it('an unexpected exception from the api is a failed change, not a crash', async () => {
    const plan = makePlan();
    const api = FakeHelloId.fromPlan(plan);
    api.removeMember = () => Promise.reject(new TypeError('boom'));
    const receipt: Receipt = await executePlan(plan, api, { concurrency: 2, journalPath });
    expect(receipt.exitCode).toBe(4);
    expect(receipt.changes[0]).toMatchObject({ action: 'remove', outcome: 'failed', error: 'boom' });
    expect(receipt.summary.done).toBe(3);
  });

  it('an empty plan yields an empty receipt', async () => {
    const plan = { ...makePlan(), groups: [], changes: [] };
    const receipt = await executePlan(plan, new FakeHelloId(), { concurrency: 4, journalPath });
    expect(receipt).toMatchObject({ exitCode: 0, summary: { total: 0 } });
  });
});
