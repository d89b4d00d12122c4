import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { applyPlan, type ApplyEvent, type ApplyPlanOptions } from '../../src/apply/apply-plan.js';
import { RefusedError } from '../../src/errors.js';
import { writePlan } from '../../src/plan/plan-file.js';
import type { PlanFile } from '../../src/plan/types.js';
import { CONFIG_DIGEST, G, makeConfig, makePlan, tempDir, U } from '../plan/helpers.js';
import { FakeHelloId } from './fake-helloid.js';

let dir: string;
let cleanup: () => void;
let planPath: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  planPath = join(dir, 'plan.yaml');
});
afterEach(() => cleanup());

const LATER = new Date('2025-03-01T12:00:00.000Z');

function writeApproved(plan: PlanFile = makePlan()): PlanFile {
  const p = { ...plan, approvals: [{ by: 'alice', at: LATER.toISOString(), digest: plan.digest }] };
  writePlan(planPath, p);
  return p;
}

function options(api: FakeHelloId, patch: Partial<ApplyPlanOptions> = {}): ApplyPlanOptions {
  return { planPath, config: makeConfig(), configDigest: CONFIG_DIGEST, api, now: () => LATER, autoApprove: false, ...patch };
}

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RefusedError);
    return (err as Error).message;
  }
  throw new Error('not refused');
}

describe('applyPlan', () => {
  it('verifies, checks drift, executes, writes journal and receipt, releases the lock', async () => {
    const plan = writeApproved();
    const api = FakeHelloId.fromPlan(plan);
    const events: ApplyEvent['type'][] = [];
    const result = await applyPlan(options(api, { onEvent: (e) => events.push(e.type) }));
    expect(result.status).toBe('applied');
    expect(result.exitCode).toBe(0);
    expect(result.approvals.map((a) => a.by)).toEqual(['alice']);
    expect(result.receipt!.summary).toMatchObject({ done: 4, failed: 0 });
    expect(existsSync(`${planPath}.receipt.json`)).toBe(true);
    expect(existsSync(`${planPath}.journal.jsonl`)).toBe(true);
    expect(existsSync(`${planPath}.lock`)).toBe(false);
    expect(events).toEqual(['verified', 'drift', 'progress', 'progress', 'progress', 'progress', 'finished']);
    for (const g of plan.groups) expect(api.sorted(g.groupGuid)).toEqual([...g.plannedMembers].sort());
  });

  it('short-circuits an already-applied plan with zero writes', async () => {
    const plan = writeApproved();
    const api = FakeHelloId.fromPlan(plan, 'planned');
    const result = await applyPlan(options(api));
    expect(result).toMatchObject({ status: 'already-applied', exitCode: 0 });
    expect(result.receipt).toBeUndefined();
    expect(api.writes).toEqual([]);
    expect(existsSync(`${planPath}.lock`)).toBe(false);
  });

  it('refuses a drifted plan with zero writes and releases the lock', async () => {
    const plan = writeApproved();
    const api = FakeHelloId.fromPlan(plan);
    api.members.get(G(1))!.add(U(42));
    expect(await refused(applyPlan(options(api)))).toMatch(/HelloID changed since it was planned; 1 group drifted/);
    expect(api.writes).toEqual([]);
    expect(existsSync(`${planPath}.lock`)).toBe(false);
  });

  it('refuses before reading HelloID when verification fails', async () => {
    writePlan(planPath, makePlan());
    const api = FakeHelloId.fromPlan(makePlan());
    expect(await refused(applyPlan(options(api)))).toMatch(/has no approval/);
    expect(api.reads).toEqual([]);
    expect(existsSync(`${planPath}.lock`)).toBe(false);
  });

  it('refuses a tampered plan file (exit 3, not a read error)', async () => {
    writeApproved();
    writeFileSync(planPath, readFileSync(planPath, 'utf8').replace('user5@contoso.com', 'mallory@contoso.com'));
    expect(await refused(applyPlan(options(new FakeHelloId())))).toMatch(/has been modified after it was planned/);
  });

  it('auto-approve applies an unapproved plan', async () => {
    const plan = makePlan();
    writePlan(planPath, plan);
    const result = await applyPlan(options(FakeHelloId.fromPlan(plan), { autoApprove: true }));
    expect(result.status).toBe('applied');
    expect(result.approvals).toEqual([]);
  });

  it('asks for confirmation when there is no approval; "no" changes nothing', async () => {
    const plan = makePlan();
    writePlan(planPath, plan);
    const api = FakeHelloId.fromPlan(plan);
    const asked: string[] = [];
    const msg = await refused(applyPlan(options(api, { confirm: async ({ drift }) => (asked.push(drift.status), false) })));
    expect(msg).toBe(`apply cancelled: ${planPath} was not confirmed. Nothing was changed.`);
    expect(asked).toEqual(['ready']);
    expect(api.writes).toEqual([]);
    const result = await applyPlan(options(api, { confirm: async () => true }));
    expect(result.status).toBe('applied');
  });

  it('does not ask for confirmation when an approval exists', async () => {
    const plan = writeApproved();
    const result = await applyPlan(options(FakeHelloId.fromPlan(plan), { confirm: async () => { throw new Error('asked'); } }));
    expect(result.status).toBe('applied');
  });

  it('partial failure returns exit 4; a re-run resumes without repeating writes', async () => {
    const plan = writeApproved(makePlan({ extraGroups: 3 }));
    const api = FakeHelloId.fromPlan(plan);
    api.failing.add(`${G(2)}/${U(4)}`);
    const first = await applyPlan(options(api));
    expect(first).toMatchObject({ status: 'partial', exitCode: 4 });
    expect(first.receipt!.summary.failed).toBe(1);
    const before = api.writes.length;

    api.failing.clear();
    const second = await applyPlan(options(api));
    // HR is in progress (U5 added, U4 not): the journal explains it, so no drift.
    expect(second.drift.perGroup.find((g) => g.groupGuid === G(2))!.state).toBe('in-progress');
    expect(second).toMatchObject({ status: 'applied', exitCode: 0 });
    expect(api.writes.slice(before)).toEqual([{ op: 'add', groupGuid: G(2), userGuid: U(4) }]);
    expect(second.receipt!.summary).toMatchObject({ done: 1, failed: 0 });

    const third = await applyPlan(options(api));
    expect(third.status).toBe('already-applied');
    expect(api.writes.length).toBe(before + 1);
  });

  it('refuses while another live process holds the lock', async () => {
    const plan = writeApproved();
    // pid 1 is always alive (init); same host, so it is not stale.
    writeFileSync(`${planPath}.lock`, JSON.stringify({ pid: 1, host: hostname(), since: '2025-03-01T11:59:00.000Z', token: 't' }));
    const api = FakeHelloId.fromPlan(plan);
    expect(await refused(applyPlan(options(api)))).toMatch(/another apply of this plan is running .*pid 1 on/);
    expect(api.reads).toEqual([]);
    expect(existsSync(`${planPath}.lock`)).toBe(true);
  });

  it('two concurrent applies of the same plan in one process: one runs, the other is refused', async () => {
    const plan = writeApproved(makePlan({ extraGroups: 3 }));
    const api = FakeHelloId.fromPlan(plan);
    api.delayMs = 5;
    const results = await Promise.allSettled([applyPlan(options(api)), applyPlan(options(api))]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const bad = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(bad).toHaveLength(1);
    expect(bad[0]!.reason).toBeInstanceOf(RefusedError);
    expect(api.writes).toHaveLength(plan.changes.length);
  });
});
