import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
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
/** The target lock: in the lock dir, named after sha256 of the (lower-case) HelloID URL. */
let lockFile: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  planPath = join(dir, 'plan.yaml');
  lockFile = join(dir, `ownersync-apply-${createHash('sha256').update('https://contoso.helloid.com').digest('hex').slice(0, 16)}.lock`);
});
afterEach(() => cleanup());

const LATER = new Date('2025-03-01T12:00:00.000Z');

function writeApproved(plan: PlanFile = makePlan()): PlanFile {
  const p = { ...plan, approvals: [{ by: 'alice', at: LATER.toISOString(), digest: plan.digest }] };
  writePlan(planPath, p);
  return p;
}

function options(api: FakeHelloId, patch: Partial<ApplyPlanOptions> = {}): ApplyPlanOptions {
  return { planPath, config: makeConfig(), configDigest: CONFIG_DIGEST, api, now: () => LATER, autoApprove: false, lockDir: dir, ...patch };
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
    expect(existsSync(lockFile)).toBe(false);
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
    expect(existsSync(lockFile)).toBe(false);
  });

  it('refuses a drifted plan with zero writes and releases the lock', async () => {
    const plan = writeApproved();
    const api = FakeHelloId.fromPlan(plan);
    api.members.get(G(1))!.add(U(42));
    expect(await refused(applyPlan(options(api)))).toMatch(/HelloID changed since it was planned; 1 group drifted/);
    expect(api.writes).toEqual([]);
    expect(existsSync(lockFile)).toBe(false);
  });

  it('refuses before reading HelloID when verification fails', async () => {
    writePlan(planPath, makePlan());
    const api = FakeHelloId.fromPlan(makePlan());
    expect(await refused(applyPlan(options(api)))).toMatch(/has no approval/);
    expect(api.reads).toEqual([]);
    expect(existsSync(lockFile)).toBe(false);
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
    writeFileSync(lockFile, JSON.stringify({ pid: 1, host: hostname(), since: '2025-03-01T11:59:00.000Z', token: 't' }));
    const api = FakeHelloId.fromPlan(plan);
    expect(await refused(applyPlan(options(api)))).toMatch(/another apply to https:\/\/contoso\.helloid\.com is running \(.*ownersync-apply-[0-9a-f]{16}\.lock: pid 1 on/);
    expect(api.reads).toEqual([]);
    expect(existsSync(lockFile)).toBe(true);
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

  it('resume after drift (issue 17 story 1): a member re-added after the journaled removal is drift, not a write', async () => {
    const plan = writeApproved();
    const api = FakeHelloId.fromPlan(plan);
    api.failing.add(`${G(2)}/${U(4)}`);
    expect((await applyPlan(options(api))).status).toBe('partial');
    const before = api.writes.length;
    // An administrator puts U2 back into Finance, whose removal the journal records as done.
    api.members.get(G(1))!.add(U(2));
    api.failing.clear();
    const msg = await refused(applyPlan(options(api)));
    expect(msg).toContain(`Finance Resource Owners (${G(1)}): re-added after an earlier run of this plan removed them: user2@contoso.com (${U(2)})`);
    expect(api.writes.length).toBe(before);
  });

  it('refuses when a group was renamed or a user GUID belongs to someone else (no writes)', async () => {
    const plan = writeApproved();
    const renamed = FakeHelloId.fromPlan(plan);
    renamed.groupInfo.set(G(2), { name: 'Payroll Resource Owners', source: 'Local' });
    let msg = await refused(applyPlan(options(renamed)));
    expect(msg).toContain(`group 'HR Resource Owners' (${G(2)}): HelloID now calls this group 'Payroll Resource Owners'`);
    expect(renamed.writes).toEqual([]);

    const caseOnly = FakeHelloId.fromPlan(plan);
    caseOnly.groupInfo.set(G(2), { name: '  hr resource OWNERS ', source: null });
    expect((await applyPlan(options(caseOnly))).status).toBe('applied');

    const otherSource = FakeHelloId.fromPlan(plan);
    otherSource.groupInfo.set(G(1), { name: 'Finance Resource Owners', source: 'AD' });
    msg = await refused(applyPlan(options(otherSource)));
    expect(msg).toContain(`group 'Finance Resource Owners' (${G(1)}): 'Finance Resource Owners' (source AD) is not a resource-owner group under this configuration`);

    const swapped = FakeHelloId.fromPlan(plan);
    swapped.users.set(U(4), 'ceo@contoso.com');
    swapped.users.delete(U(5));
    msg = await refused(applyPlan(options(swapped)));
    expect(msg).toContain(`user 'user4@contoso.com' (${U(4)}): this GUID is HelloID user 'ceo@contoso.com', not 'user4@contoso.com'`);
    expect(msg).toContain(`user 'user5@contoso.com' (${U(5)}): HelloID has no user with this GUID`);
    expect(swapped.writes).toEqual([]);
  });

  it('reads each group once and each changed user once', async () => {
    const plan = writeApproved();
    const api = FakeHelloId.fromPlan(plan);
    await applyPlan(options(api));
    expect([...api.reads].sort()).toEqual([G(1), G(2)]);
    expect([...api.userReads].sort()).toEqual([U(2), U(3), U(4), U(5)]);
  });

  it('repeats the live checks after the interactive confirmation', async () => {
    const plan = makePlan();
    writePlan(planPath, plan);
    const api = FakeHelloId.fromPlan(plan);
    // While the operator reads the plan, someone adds U42 to Finance.
    const msg = await refused(applyPlan(options(api, { confirm: async () => (api.members.get(G(1))!.add(U(42)), true) })));
    expect(msg).toMatch(/1 group drifted/);
    expect(api.writes).toEqual([]);
    const renamedMeanwhile = FakeHelloId.fromPlan(plan);
    const msg2 = await refused(
      applyPlan(options(renamedMeanwhile, { confirm: async () => (renamedMeanwhile.groupInfo.set(G(1), { name: 'Other Resource Owners', source: 'Local' }), true) })),
    );
    expect(msg2).toContain("HelloID now calls this group 'Other Resource Owners'");
    expect(renamedMeanwhile.writes).toEqual([]);
  });

  it('dry run: every check, no lock, no write; would-apply, already-applied, or the refusal', async () => {
    const plan = writeApproved();
    const api = FakeHelloId.fromPlan(plan);
    // A live lock of another apply does not stop a dry run.
    writeFileSync(lockFile, JSON.stringify({ pid: 1, host: hostname(), since: '2025-03-01T11:59:00.000Z', token: 't' }));
    const r = await applyPlan(options(api, { dryRun: true }));
    expect(r).toMatchObject({ status: 'would-apply', exitCode: 0, dryRun: true });
    expect(r.receipt).toBeUndefined();
    expect(api.writes).toEqual([]);
    expect(existsSync(`${planPath}.journal.jsonl`)).toBe(false);
    expect((await applyPlan(options(FakeHelloId.fromPlan(plan, 'planned'), { dryRun: true }))).status).toBe('already-applied');
    api.members.get(G(1))!.add(U(42));
    expect(await refused(applyPlan(options(api, { dryRun: true })))).toMatch(/1 group drifted/);
    expect(api.writes).toEqual([]);
  });

  it('dry run of an unapproved plan refuses (it asks nothing), unless --auto-approve', async () => {
    const plan = makePlan();
    writePlan(planPath, plan);
    const api = FakeHelloId.fromPlan(plan);
    const confirm = async (): Promise<boolean> => {
      throw new Error('asked');
    };
    expect(await refused(applyPlan(options(api, { dryRun: true, confirm })))).toMatch(/has no approval/);
    expect((await applyPlan(options(api, { dryRun: true, autoApprove: true }))).status).toBe('would-apply');
    expect(api.writes).toEqual([]);
  });
});
