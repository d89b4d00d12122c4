/**
 * Apply and a lock someone else left (the target's lock in the OS temp dir, see
 * src/apply/paths.ts), written by hand:
 * a dead pid on this host is stale and taken over (apply proceeds); a live pid, a lock
 * from another host, or a file that is not a lock refuses with exit 3, changes nothing
 * in HelloID and leaves that lock file alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockFileFor } from '../e2e/apply-helpers.js';
import { setup, type Env } from '../e2e/harness.js';
import { expectNoStack, helloidWriteRequests, planJson } from './helpers.js';

let e: Env;
let planFile: string;
let live: ChildProcess | undefined;

function lockText(pid: number, host = hostname()): string {
  return `${JSON.stringify({ pid, host, since: new Date(Date.now() - 60_000).toISOString(), token: 'feedfacefeedface' })}\n`;
}

/** A fresh copy of the approved plan (no journal, receipt or lock yet). */
let copies = 0;
function planCopy(): string {
  const name = `plan-copy-${++copies}.yaml`;
  copyFileSync(e.file(planFile), e.file(name));
  return name;
}

/** A pid that existed and has exited (so nothing lives under it now, barring reuse). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((r) => child.on('exit', r));
  return pid;
}

beforeAll(async () => {
  e = await setup({ sync: { removeMembers: true } });
  const p = await planJson(e);
  expect(p.code, p.stderr).toBe(2);
  planFile = p.planFile;
  expect((await e.run(['approve', planFile, '--by', 'Reviewer'])).code).toBe(0);
  // A live process that is not an ownersync apply: its pid stands for "another apply running".
  live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
});

afterAll(async () => {
  if (live?.pid !== undefined && live.exitCode === null) live.kill('SIGTERM');
  if (e) rmSync(lockFileFor(e), { force: true });
  await e?.stop();
});

describe('apply with a lock file already there', () => {
  for (const [name, content, why] of [
    ['a live pid on this host', () => lockText(live!.pid!), /another apply to .* is running .*pid \d+/],
    ['a lock from another host', () => lockText(1, 'some-other-ci-runner'), /some-other-ci-runner.*delete/s],
    ['a file that is not a lock', () => 'garbage\n', /not a valid ownersync lock/],
    ['an empty file', () => '', /not a valid ownersync lock/],
  ] as const) {
    it(`refuses with exit 3 and changes nothing: ${name}`, async () => {
      const plan = planCopy();
      const text = content();
      writeFileSync(lockFileFor(e), text);
      e.emulator.resetStats();
      const r = await e.run(['apply', plan]);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).toContain(lockFileFor(e));
      expectNoStack(r.stderr);
      expect(helloidWriteRequests(e.emulator)).toBe(0);
      // The other holder's lock is left as it was.
      expect(readFileSync(lockFileFor(e), 'utf8')).toBe(text);
      expect(existsSync(e.file(`${plan}.receipt.json`))).toBe(false);
    });
  }

  it('takes over a stale lock (dead pid on this host) and applies the plan', async () => {
    const plan = planCopy();
    const pid = await deadPid();
    writeFileSync(lockFileFor(e), lockText(pid));
    e.emulator.resetStats();
    const r = await e.run(['apply', plan]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Apply complete/);
    expect(helloidWriteRequests(e.emulator)).toBe(13);
    // Released at the end.
    expect(existsSync(lockFileFor(e))).toBe(false);
  });
});
