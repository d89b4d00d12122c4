/**
 * "Process killed mid-apply": a child process runs executePlan (compiled JS) and is
 * SIGKILLed right after a write reached the (fake) server but before its outcome was
 * journaled. Then, as a re-run would: the journal is intact line by line, the drift
 * check sees the half-applied groups as in progress (not drifted), and the resumed
 * execution finishes the plan without repeating any write.
 *
 * src/apply is compiled on its own (test/apply/fixtures/tsconfig.kill.json) into
 * tmp/, so this test does not depend on the rest of the tree building.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { driftReport } from '../../src/apply/drift.js';
import { executePlan } from '../../src/apply/execute.js';
import { readJournal } from '../../src/apply/journal.js';
import type { JournalEntry } from '../../src/apply/types.js';
import { makePlan, tempDir } from '../plan/helpers.js';
import { FakeHelloId, type FakeWrite } from './fake-helloid.js';

const root = resolve(import.meta.dirname, '../..');
const buildDir = join(root, 'tmp', `apply-kill-test-${process.pid}`);
const distDir = join(buildDir, 'dist');
let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('ownersync-kill-'));
  mkdirSync(buildDir, { recursive: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const res = spawnSync(process.execPath, [tsc, '-p', join(root, 'test/apply/fixtures/tsconfig.kill.json'), '--outDir', distDir], { encoding: 'utf8' });
  if (!existsSync(join(distDir, 'apply', 'index.js'))) throw new Error(`could not compile src/apply for the child process:\n${res.stdout}${res.stderr}`);
  cpSync(join(root, 'schemas'), join(buildDir, 'schemas'), { recursive: true });
}, 120_000);

afterAll(() => {
  cleanup();
  rmSync(buildDir, { recursive: true, force: true });
  try {
    rmdirSync(join(root, 'tmp')); // only if empty: other users of tmp/ keep theirs
  } catch {
    // not empty or not there
  }
});

const CONCURRENCY = 4;
const KILL_AFTER = 23;

describe('apply killed mid-way (SIGKILL in a child process)', () => {
  it('loses at most the in-flight outcomes, and a re-run resumes without repeating a write', async () => {
    const plan = makePlan({ extraGroups: 12, usersPerExtraGroup: 4 }); // 52 changes
    const planJson = join(dir, 'plan.json');
    const journalPath = join(dir, 'plan.yaml.journal.jsonl');
    const serverLog = join(dir, 'server.jsonl');
    writeFileSync(planJson, JSON.stringify(plan));
    writeFileSync(serverLog, '');

    const child = spawnSync(
      process.execPath,
      [join(root, 'test/apply/fixtures/kill-child.mjs'), distDir, planJson, journalPath, serverLog, String(CONCURRENCY), String(KILL_AFTER)],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(child.signal, child.stderr).toBe('SIGKILL');

    // The server committed exactly KILL_AFTER writes.
    const committed = readFileSync(serverLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FakeWrite);
    expect(committed).toHaveLength(KILL_AFTER);

    // Every journal line is whole JSON; nothing torn.
    const raw = readFileSync(journalPath, 'utf8');
    expect(raw.endsWith('\n')).toBe(true);
    const lines = raw.trim().split('\n').map((l) => JSON.parse(l) as JournalEntry);
    const key = (g: string, u: string, a: string): string => `${g}/${u}/${a}`;
    const started = new Set(lines.filter((l) => l.outcome === 'started').map((l) => key(l.groupGuid, l.userGuid, l.action)));
    const done = new Set(lines.filter((l) => l.outcome === 'done').map((l) => key(l.groupGuid, l.userGuid, l.action)));
    const committedKeys = new Set(committed.map((w) => key(w.groupGuid, w.userGuid, w.op)));
    // Journaled outcomes are a subset of what the server has; every commit was journaled as started first.
    for (const k of done) expect(committedKeys.has(k)).toBe(true);
    for (const k of committedKeys) expect(started.has(k)).toBe(true);
    // Lost outcomes: at most the writes in flight at the kill.
    const lost = [...committedKeys].filter((k) => !done.has(k));
    expect(lost.length).toBeGreaterThanOrEqual(1); // the killing write itself
    expect(lost.length).toBeLessThanOrEqual(CONCURRENCY);

    // Re-run, in process, against a HelloID that holds the committed writes.
    const api = FakeHelloId.fromPlan(plan);
    for (const w of committed) {
      if (w.op === 'add') api.members.get(w.groupGuid)!.add(w.userGuid);
      else api.members.get(w.groupGuid)!.delete(w.userGuid);
    }
    const journal = readJournal(journalPath, plan.digest);
    const current = new Map(plan.groups.map((g) => [g.groupGuid.toLowerCase(), api.sorted(g.groupGuid)] as const));
    const drift = driftReport(plan, current, journal);
    expect(drift.status).toBe('ready');
    expect(drift.perGroup.some((g) => g.state === 'in-progress' || g.state === 'done')).toBe(true);

    const receipt = await executePlan(plan, api, {
      concurrency: CONCURRENCY,
      journalPath,
      currentMembers: new Map(drift.perGroup.map((g) => [g.groupGuid, g.currentMembers])),
    });
    expect(receipt.exitCode).toBe(0);
    for (const g of plan.groups) expect(api.sorted(g.groupGuid)).toEqual([...g.plannedMembers].sort());
    // No change was written twice across the two runs.
    const all = [...committed, ...api.writes].map((w) => key(w.groupGuid, w.userGuid, w.op));
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(plan.changes.length);
    expect(receipt.summary).toMatchObject({ skipped: done.size, already: lost.length, done: plan.changes.length - KILL_AFTER, failed: 0 });
    // Sanity: the child really ran the compiled module.
    expect(execFileSync(process.execPath, ['-e', `import(${JSON.stringify(join(distDir, 'apply', 'index.js'))}).then(m => process.stdout.write(typeof m.executePlan))`], { encoding: 'utf8' })).toBe('function');
  });
});
