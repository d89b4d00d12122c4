/**
 * The main apply path through the built CLI against the emulator: plan → approve →
 * show → apply --json → plan again (no changes), with the receipt, the journal and the
 * JSON output checked against their contracts; then a second apply of the same plan
 * with its journal deleted is recognised as already applied and writes nothing.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helloidWrites, setup, type Env } from './harness.js';
import {
  applyOutputErrors,
  changeKey,
  expectedAfter,
  planKeys,
  readJournalLines,
  readReceipt,
  show,
  snapshot,
  makePlan,
  WriteTracker,
  type Membership,
  type PlanDoc,
} from './apply-helpers.js';

describe('apply: plan → approve → apply → plan', () => {
  let e: Env;
  let plan: PlanDoc;
  let before: Membership;
  let tracker: WriteTracker;

  beforeAll(async () => {
    e = await setup();
    before = snapshot(e.emulator);
    tracker = new WriteTracker(e.emulator);
    plan = await makePlan(e);
  });
  afterAll(async () => e?.stop());

  it('applies all 13 changes, journals each, writes a full receipt and valid --json, and converges', async () => {
    expect(plan.changes).toHaveLength(13);
    expect(plan.groups).toHaveLength(10);

    const approve = await e.run(['approve', 'plan.yaml', '--by', 'Reviewer', '--comment', 'checked with the owners']);
    expect(approve.code, show(approve)).toBe(0);
    const shown = await e.run(['show', 'plan.yaml']);
    expect(shown.code, show(shown)).toBe(0);
    expect(shown.stdout).toContain('approved by Reviewer');

    const apply = await e.run(['apply', 'plan.yaml', '--json']);
    expect(apply.code, show(apply)).toBe(0);
    expect(helloidWrites(e.emulator)).toBe(13);
    expect(tracker.repeated()).toEqual([]);
    expect(tracker.keys()).toEqual(planKeys(plan));

    // --json output matches its published schema (draft-07) and says what happened.
    const out = JSON.parse(apply.stdout) as { status: string; digest: string; summary: Record<string, number>; changes: Array<{ outcome: string }> };
    expect(applyOutputErrors(out)).toBe('');
    expect(out.status).toBe('applied');
    expect(out.digest).toBe(plan.digest);
    expect(out.summary).toEqual({ done: 13, already: 0, failed: 0, skipped: 0 });
    expect(out.changes.map((c) => c.outcome)).toEqual(new Array(13).fill('done'));

    // The receipt lists every change as done.
    const receipt = readReceipt(e.file('plan.yaml.receipt.json'));
    expect(receipt.digest).toBe(plan.digest);
    expect(receipt.status).toBe('applied');
    expect(receipt.summary).toEqual({ total: 13, done: 13, already: 0, failed: 0, skipped: 0 });
    expect(receipt.changes.map((c) => changeKey(c.groupGuid, c.userGuid, c.action)).sort()).toEqual(planKeys(plan));
    expect(receipt.changes.every((c) => c.outcome === 'done')).toBe(true);

    // The journal: exactly one started + one done line per change, started first.
    const journal = readJournalLines(e.file('plan.yaml.journal.jsonl'));
    expect(journal).toHaveLength(26);
    expect(journal.every((l) => l.digest === plan.digest)).toBe(true);
    for (const key of planKeys(plan)) {
      const lines = journal.filter((l) => changeKey(l.groupGuid, l.userGuid, l.action) === key);
      expect(lines.map((l) => l.outcome), key).toEqual(['started', 'done']);
    }

    // HelloID is exactly the planned state; nothing else moved.
    expect(snapshot(e.emulator)).toEqual(expectedAfter(before, plan));

    // Planning again finds nothing to do.
    const again = await e.run(['plan', '--detailed-exitcode', '-o', 'plan2.yaml', '--state', 'plan2.desired-state.yaml']);
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toContain('Plan: 0 to add, 0 to remove, 0 kept.');
  });

  it('a second apply with the journal deleted reports "Already applied" and writes nothing', async () => {
    rmSync(e.file('plan.yaml.journal.jsonl'));
    const receiptBefore = readFileSync(e.file('plan.yaml.receipt.json'), 'utf8');
    const writes = helloidWrites(e.emulator);
    const state = snapshot(e.emulator);

    const r = await e.run(['apply', 'plan.yaml']);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/Already applied/);
    expect(helloidWrites(e.emulator)).toBe(writes);
    expect(snapshot(e.emulator)).toEqual(state);
    // The receipt of the run that did the work is kept.
    expect(readFileSync(e.file('plan.yaml.receipt.json'), 'utf8')).toBe(receiptBefore);
    expect(tracker.repeated()).toEqual([]);
  });
});
