/**
 * apply under a misbehaving HelloID, through the built CLI against the emulator:
 * random 429/503/500s, a per-service concurrency limit (429 + Retry-After), a write
 * that fails for good (exit 4, the rest done, a re-run sends only that write again),
 * and two applies of the same plan at once.
 *
 * One plan serves every test: before each, HelloID membership is put back to what it
 * was at plan time (so the plan is fresh and undrifted again), faults and stats are
 * reset, and the approved plan is copied to a new file, so each test starts with no
 * journal, receipt or lock.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { helloidWrites, setup, type Env } from './harness.js';
import {
  applyOutputErrors,
  changeKey,
  collect,
  expectedAfter,
  lockFileFor,
  makePlan,
  planKeys,
  readReceipt,
  restore,
  show,
  snapshot,
  waitFor,
  writeLog,
  WriteTracker,
  type Membership,
  type PlanDoc,
} from './apply-helpers.js';

describe('apply against a misbehaving HelloID', () => {
  let e: Env;
  let plan: PlanDoc;
  let before: Membership;
  let tracker: WriteTracker | undefined;
  let n = 0;

  beforeAll(async () => {
    e = await setup({ sync: { concurrency: 4 } });
    before = snapshot(e.emulator);
    plan = await makePlan(e);
    const ok = await e.run(['approve', 'plan.yaml', '--by', 'Reviewer']);
    expect(ok.code, show(ok)).toBe(0);
  });
  afterAll(async () => e?.stop());

  /** A fresh copy of the approved plan (no journal, receipt or lock yet). */
  let file: string;
  beforeEach(() => {
    tracker?.uninstall();
    e.emulator.resetFaults();
    restore(e.emulator, before);
    e.emulator.resetStats();
    tracker = new WriteTracker(e.emulator);
    file = `plan-${++n}.yaml`;
    copyFileSync(e.file('plan.yaml'), e.file(file));
  });

  const applied = (): Membership => expectedAfter(before, plan);

  it('random 429/503/500 on HelloID: retried, exit 0, planned state, no write executed twice', async () => {
    e.emulator.setFaults({ randomFailRate: 0.3, randomFailStatuses: [429, 503, 500], seed: 20_251_126, randomServices: ['helloid'], retryAfterSeconds: 0.05 });
    const r = await e.run(['apply', file]);
    expect(r.code, show(r)).toBe(0);
    expect(snapshot(e.emulator)).toEqual(applied());
    expect(tracker!.repeated()).toEqual([]);
    expect(tracker!.keys()).toEqual(planKeys(plan));
    const faulted = e.emulator.stats().log.filter((l) => l.service === 'helloid' && l.fault === 'random');
    expect(faulted.length).toBeGreaterThan(0);
    for (const f of faulted) expect([429, 503, 500]).toContain(f.status);
    const receipt = readReceipt(e.file(`${file}.receipt.json`));
    expect(receipt.summary).toMatchObject({ total: 13, failed: 0, skipped: 0 });
    expect(receipt.summary.done + receipt.summary.already).toBe(13);
  });

  // Spec §6: network errors are retried. The emulator resets the connection before the
  // write is carried out (a write done whose reply is lost is not modelled).
  it('connection resets on HelloID writes: retried, exit 0, planned state, no write executed twice', async () => {
    e.emulator.setFaults({
      rules: [
        { service: 'helloid', method: 'DELETE', action: 'reset', times: 1 },
        { service: 'helloid', method: 'POST', action: 'reset', times: 2 },
      ],
    });
    const r = await e.run(['apply', file]);
    expect(r.code, show(r)).toBe(0);
    expect(snapshot(e.emulator)).toEqual(applied());
    expect(tracker!.repeated()).toEqual([]);
    expect(tracker!.keys()).toEqual(planKeys(plan));
    expect(e.emulator.stats().log.filter((l) => l.service === 'helloid' && l.fault === 'reset')).toHaveLength(3);
    expect(readReceipt(e.file(`${file}.receipt.json`)).summary).toMatchObject({ total: 13, failed: 0, skipped: 0 });
  });

  it('a HelloID concurrency limit of 1 with apply.concurrency 4: 429s, still exit 0 and the planned state', async () => {
    e.emulator.setFaults({ concurrency: { helloid: 1 }, serviceLatencyMs: { helloid: 30 }, retryAfterSeconds: 0.05 });
    const r = await e.run(['apply', file]);
    expect(r.code, show(r)).toBe(0);
    const helloid = e.emulator.stats().services.helloid;
    expect(helloid.status429).toBeGreaterThan(0);
    expect(helloid.maxInFlight).toBe(1);
    expect(snapshot(e.emulator)).toEqual(applied());
    expect(tracker!.repeated()).toEqual([]);
    expect(tracker!.keys()).toEqual(planKeys(plan));
  });

  it('a write that fails for good: exit 4, everything else done, receipt says failed; a re-run sends only that write', async () => {
    // A group with exactly one planned change, an add: its POST is refused with 400, always.
    const victim = plan.groups.find((g) => {
      const cs = plan.changes.filter((c) => c.groupGuid === g.groupGuid);
      return cs.length === 1 && cs[0]!.action === 'add';
    })!;
    const failing = plan.changes.find((c) => c.groupGuid === victim.groupGuid)!;
    const failingKey = changeKey(failing.groupGuid, failing.userGuid, failing.action);
    e.emulator.setFaults({ rules: [{ service: 'helloid', method: 'POST', path: `/groups/${victim.groupGuid}/users`, action: 'error', status: 400 }] });

    const first = await e.run(['apply', file]);
    expect(first.code, show(first)).toBe(4);
    expect(first.stdout).toContain('Apply PARTLY FAILED: 12 done, 0 already in place, 0 done by an earlier run, 1 failed.');
    expect(first.stdout).toContain(`Re-run \`ownersync apply ${file}\` to retry the failed changes; done ones are not repeated.`);
    expect(first.stdout).toMatch(new RegExp(`\\+ ${victim.groupName}: ${failing.userName} {2}FAILED {2}.*400`));

    // Every other change is in HelloID; the victim group is as it was.
    const partial = { ...applied(), [victim.groupGuid.toLowerCase()]: before[victim.groupGuid.toLowerCase()]! };
    expect(snapshot(e.emulator)).toEqual(partial);
    const receipt = readReceipt(e.file(`${file}.receipt.json`));
    expect(receipt.status).toBe('partial');
    expect(receipt.exitCode).toBe(4);
    expect(receipt.summary).toEqual({ total: 13, done: 12, already: 0, failed: 1, skipped: 0 });
    for (const c of receipt.changes) {
      const k = changeKey(c.groupGuid, c.userGuid, c.action);
      expect(c.outcome, k).toBe(k === failingKey ? 'failed' : 'done');
    }
    expect(receipt.changes.find((c) => c.outcome === 'failed')!.error).toMatch(/400/);
    const writesAfterFirst = writeLog(e.emulator);
    expect(writesAfterFirst).toHaveLength(13); // a 400 is not retried

    // HelloID recovers; the re-run sends the one failed write and nothing else.
    e.emulator.setFaults({ rules: [] });
    const second = await e.run(['apply', file, '--json']);
    expect(second.code, show(second)).toBe(0);
    const out = JSON.parse(second.stdout) as { status: string; summary: object; changes: Array<{ outcome: string }> };
    expect(applyOutputErrors(out)).toBe('');
    expect(out.status).toBe('applied');
    expect(out.summary).toEqual({ done: 1, already: 0, failed: 0, skipped: 12 });
    const resent = writeLog(e.emulator).slice(writesAfterFirst.length);
    expect(resent.map((w) => [w.method, w.path.toLowerCase(), w.status])).toEqual([['POST', `/api/v1/groups/${victim.groupGuid.toLowerCase()}/users`, 200]]);
    expect(snapshot(e.emulator)).toEqual(applied());
    expect(tracker!.repeated()).toEqual([]);
    expect(tracker!.keys()).toEqual(planKeys(plan));
    const receipt2 = readReceipt(e.file(`${file}.receipt.json`));
    expect(receipt2.summary).toEqual({ total: 13, done: 1, already: 0, failed: 0, skipped: 12 });
  });

  it('two applies of the same plan at once: the second, started mid-apply, refuses; the plan is applied once, no write repeated', async () => {
    // One POST of the first apply is held for a while, so it is certainly still running
    // (holding its lock, journal half-written) when the second one gets going.
    e.emulator.setFaults({ serviceLatencyMs: { helloid: 20 }, rules: [{ service: 'helloid', method: 'POST', action: 'hang', hangMs: 6000, times: 1 }] });
    const first = collect(e.spawnCli(['apply', file]));
    await waitFor(() => helloidWrites(e.emulator) >= 11, 'the first apply to make every write but the held one');
    expect(existsSync(lockFileFor(e))).toBe(true);
    const second = await e.run(['apply', file]);
    expect(second.code, show(second)).toBe(3);
    expect(second.stderr).toContain(`another apply to ${e.emulator.url} is running (${lockFileFor(e)}: ${file}, pid `);
    expect(second.stderr).toContain('wait for it to finish. Nothing was changed by this run.');
    const a = await first;
    expect(a.code, show(a)).toBe(0);
    expect(existsSync(lockFileFor(e))).toBe(false);
    expect(snapshot(e.emulator)).toEqual(applied());
    expect(helloidWrites(e.emulator)).toBe(13);
    expect(tracker!.repeated()).toEqual([]);
    expect(tracker!.keys()).toEqual(planKeys(plan));
  });

  it('two applies of the same plan started together: both end correctly, no write repeated', async () => {
    e.emulator.setFaults({ serviceLatencyMs: { helloid: 100 } });
    const runs = await Promise.all([e.run(['apply', file]), e.run(['apply', file])]);
    const codes = runs.map((r) => r.code).sort();
    expect([[0, 0], [0, 3]], runs.map(show).join('\n\n')).toContainEqual(codes);
    for (const r of runs) if (r.code === 3) expect(r.stderr).toContain(`another apply to ${e.emulator.url} is running`);
    expect(snapshot(e.emulator)).toEqual(applied());
    expect(helloidWrites(e.emulator)).toBe(13);
    expect(tracker!.repeated()).toEqual([]);
  });
});
