/**
 * An apply killed mid-way (SIGKILL, so no handler runs) and then run again, through
 * the built CLI against the emulator. With apply.concurrency 1 and some HelloID latency
 * the kill lands while at most one write is in flight.
 *
 * The bound asserted, across both runs:
 * - HelloID executes every planned (group, user, action) exactly once, none twice;
 * - at most ONE write request is sent twice, and only if the journal left that very
 *   change as `started` with no outcome (the request in flight at the kill — the
 *   emulator sees its client go away and drops it unexecuted, or executes it and the
 *   re-run then finds it in effect and sends nothing);
 * - every other change is either skipped (journaled done by the first run) or sent once.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helloidWrites, setup, type Env } from './harness.js';
import {
  changeKey,
  expectedAfter,
  makePlan,
  planKeys,
  readJournalLines,
  readReceipt,
  show,
  snapshot,
  waitFor,
  writeLog,
  lockFileFor,
  WriteTracker,
  type Membership,
  type PlanDoc,
} from './apply-helpers.js';

describe('apply killed mid-apply, then run again', () => {
  let e: Env;
  let plan: PlanDoc;
  let before: Membership;

  beforeAll(async () => {
    e = await setup({ sync: { concurrency: 1 } });
    before = snapshot(e.emulator);
    plan = await makePlan(e);
    const ok = await e.run(['approve', 'plan.yaml', '--by', 'Reviewer']);
    expect(ok.code, show(ok)).toBe(0);
  });
  afterAll(async () => e?.stop());

  it('resumes to the planned state without repeating a write', async () => {
    const tracker = new WriteTracker(e.emulator);
    e.emulator.setFaults({ serviceLatencyMs: { helloid: 150 } });

    const child = e.spawnCli(['apply', 'plan.yaml']);
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    await waitFor(() => helloidWrites(e.emulator) >= 3 || child.exitCode !== null, 'three HelloID writes');
    child.kill('SIGKILL');
    const first = await exited;
    expect(first.signal, `the first apply finished before it could be killed:\n${out}`).toBe('SIGKILL');

    // What the killed run left: a partial journal with at most one write in flight, and its lock.
    const journalPath = e.file('plan.yaml.journal.jsonl');
    const afterKill = readJournalLines(journalPath);
    const outcomeOf = new Map<string, string[]>();
    for (const l of afterKill) {
      const k = changeKey(l.groupGuid, l.userGuid, l.action);
      outcomeOf.set(k, [...(outcomeOf.get(k) ?? []), l.outcome]);
    }
    const dangling = [...outcomeOf].filter(([, o]) => o.length === 1 && o[0] === 'started').map(([k]) => k);
    const settled = [...outcomeOf].filter(([, o]) => o.join() === 'started,done').map(([k]) => k);
    expect(dangling.length).toBeLessThanOrEqual(1);
    expect(settled.length).toBeGreaterThanOrEqual(2);
    expect(settled.length + dangling.length).toBe(outcomeOf.size);
    expect(settled.length).toBeLessThan(13);
    expect(existsSync(lockFileFor(e))).toBe(true);
    // Let the emulator notice the dead client before counting what it received.
    await waitFor(() => e.emulator.stats().services.helloid.inFlight === 0, 'the in-flight request to be dropped');

    // Run again, without latency: it takes over the stale lock and finishes the plan.
    e.emulator.setFaults({ serviceLatencyMs: { helloid: 0 } });
    const second = await e.run(['apply', 'plan.yaml']);
    expect(second.code, show(second)).toBe(0);
    expect(existsSync(lockFileFor(e))).toBe(false);

    // HelloID ends exactly in the planned state, every change executed exactly once.
    expect(snapshot(e.emulator)).toEqual(expectedAfter(before, plan));
    expect(tracker.repeated()).toEqual([]);
    expect(tracker.keys()).toEqual(planKeys(plan));
    tracker.uninstall();

    // Requests sent: 13, plus at most the one dropped at the kill, which must be the dangling change's.
    const log = writeLog(e.emulator);
    const dropped = log.filter((l) => l.status === 0);
    expect(log.filter((l) => l.status >= 200 && l.status < 300)).toHaveLength(13);
    expect(log.length).toBeLessThanOrEqual(14);
    expect(dropped.length).toBeLessThanOrEqual(dangling.length);
    if (dropped.length === 1) expect(dropped[0]!.path.toLowerCase()).toContain(`/groups/${dangling[0]!.split('/')[0]}/users`);
    // Per group and method (a POST names only the group; the user is in its body): exactly
    // the planned number of requests, one more at most for the dangling change's.
    const perRoute = (entries: Array<[string, string]>): Map<string, number> => {
      const m = new Map<string, number>();
      for (const [method, group] of entries) m.set(`${method} ${group}`, (m.get(`${method} ${group}`) ?? 0) + 1);
      return m;
    };
    const sent = perRoute(log.map((l) => [l.method, /\/groups\/([^/]+)\/users/.exec(l.path.toLowerCase())![1]!]));
    const planned = perRoute(plan.changes.map((c) => [c.action === 'add' ? 'POST' : 'DELETE', c.groupGuid.toLowerCase()]));
    const danglingRoute = dangling.map((k) => {
      const [group, , action] = k.split('/');
      return `${action === 'add' ? 'POST' : 'DELETE'} ${group}`;
    });
    expect([...sent.keys()].sort()).toEqual([...planned.keys()].sort());
    for (const [route, n] of sent) expect(n - planned.get(route)!, route).toBeLessThanOrEqual(danglingRoute.includes(route) ? 1 : 0);

    // The second run skipped what the first journaled as done and did the rest.
    const receipt = readReceipt(e.file('plan.yaml.receipt.json'));
    expect(receipt.status).toBe('applied');
    expect(receipt.summary.failed).toBe(0);
    expect(receipt.summary.skipped).toBe(settled.length);
    expect(receipt.summary.done + receipt.summary.already).toBe(13 - settled.length);
    for (const c of receipt.changes) {
      const k = changeKey(c.groupGuid, c.userGuid, c.action);
      expect(c.outcome, k).toEqual(settled.includes(k) ? 'skipped' : dangling.includes(k) ? expect.stringMatching(/^(done|already)$/) : 'done');
    }

    // The journal now has an outcome for every change.
    const journal = readJournalLines(journalPath);
    for (const k of planKeys(plan)) {
      const outcomes = journal.filter((l) => changeKey(l.groupGuid, l.userGuid, l.action) === k).map((l) => l.outcome);
      expect(outcomes.some((o) => o === 'done' || o === 'already'), `${k}: ${outcomes.join()}`).toBe(true);
    }
  });
});
