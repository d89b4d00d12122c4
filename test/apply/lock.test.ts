import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { acquireLock, pidIsAlive } from '../../src/apply/lock.js';
import { RefusedError } from '../../src/errors.js';
import { tempDir } from '../plan/helpers.js';

let dir: string;
let cleanup: () => void;
let lockPath: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  lockPath = join(dir, 'plan.yaml.lock');
});
afterEach(() => cleanup());

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('acquireLock', () => {
  it('creates the lock with pid, host and time, and release removes it', () => {
    const lock = acquireLock(lockPath, { now: () => new Date('2025-03-01T12:00:00.000Z'), digest: 'sha256:x' });
    const info = JSON.parse(readFileSync(lockPath, 'utf8'));
    expect(info).toMatchObject({ pid: process.pid, host: hostname(), since: '2025-03-01T12:00:00.000Z', digest: 'sha256:x' });
    lock.release();
    lock.release();
    expect(existsSync(lockPath)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a second apply while a live process holds the lock (exit 3)', () => {
    const lock = acquireLock(lockPath);
    let err: unknown;
    try {
      acquireLock(lockPath, { pid: process.pid + 100000, isAlive: () => true, target: 'https://contoso.helloid.com' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).exitCode).toBe(3);
    expect((err as Error).message).toMatch(new RegExp(`^another apply to https://contoso.helloid.com is running \\(${lockPath}: pid ${process.pid} on ${hostname()}, since .+\\); wait for it to finish\\.`));
    // The holder's lock is untouched.
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('refuses a second acquire by the same process', () => {
    const lock = acquireLock(lockPath);
    expect(() => acquireLock(lockPath)).toThrow(RefusedError);
    lock.release();
  });

  it('clears a stale lock whose pid is dead on this host', () => {
    const pid = deadPid();
    expect(pidIsAlive(pid)).toBe(false);
    writeFileSync(lockPath, JSON.stringify({ pid, host: hostname(), since: '2025-01-01T00:00:00.000Z', token: 'old' }));
    const lock = acquireLock(lockPath);
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(lockPath)).toBe(false);
  });

  it('never breaks a lock held on another host', () => {
    writeFileSync(lockPath, JSON.stringify({ pid: deadPid(), host: 'ci-runner-7', since: '2025-01-01T00:00:00.000Z', token: 'x' }));
    expect(() => acquireLock(lockPath)).toThrow(/pid \d+ on ci-runner-7.*if no apply is running on ci-runner-7, delete .*plan\.yaml\.lock and run apply again/);
    expect(existsSync(lockPath)).toBe(true);
  });

  it('refuses an unreadable lock file rather than guessing', () => {
    writeFileSync(lockPath, 'garbage');
    expect(() => acquireLock(lockPath)).toThrow(/is not a valid ownersync lock/);
  });

  it('release does not remove a lock that is no longer ours', () => {
    const lock = acquireLock(lockPath);
    writeFileSync(lockPath, JSON.stringify({ pid: 1, host: 'other', since: 'x', token: 'theirs' }));
    lock.release();
    expect(existsSync(lockPath)).toBe(true);
  });
});
