/**
 * The apply lock (one per HelloID target, see paths.ts): keeps two applies to the same
 * HelloID on one machine from writing at once. The lock holds pid, host and time; a lock whose pid is dead on this same host
 * is stale and is taken over. A lock from another host cannot be checked from here
 * and is never broken automatically.
 *
 * Across machines this file protects nothing (each CI runner has its own checkout):
 * there the CI concurrency group (GitHub `concurrency:`, GitLab `resource_group`,
 * Azure DevOps exclusive lock) is what serialises applies. Even without either, two
 * concurrent applies are safe for HelloID — writes are idempotent — they only race
 * on the journal and receipt.
 *
 * The content is written to a private temp file first and then hard-linked into place,
 * so a lock file is never observed empty or half-written: link(2) either creates the
 * complete file or fails with EEXIST.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { OwnersyncError, RefusedError } from '../errors.js';

export interface LockInfo {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** Random token: release removes the lock only if it is still ours. */
  token: string;
  digest?: string;
  /** The HelloID base URL the lock is for (named in messages). */
  target?: string;
  /** The plan file being applied (named in messages). */
  plan?: string;
}

export interface PlanLock {
  path: string;
  info: LockInfo;
  /** Remove the lock if it is still ours. Idempotent. */
  release(): void;
}

export interface AcquireLockOptions {
  now?: () => Date;
  digest?: string;
  target?: string;
  plan?: string;
  /** For tests: is `pid` alive on this host? @default process.kill(pid, 0) */
  isAlive?: (pid: number) => boolean;
  /** For tests. @default os.hostname() */
  host?: string;
  /** For tests. @default process.pid */
  pid?: number;
}

export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockInfo | undefined | 'missing' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const v = JSON.parse(text) as LockInfo;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.since === 'string') return v;
  } catch {
    // fall through
  }
  return undefined;
}

/** Take the lock or throw RefusedError (exit 3) saying who holds it. */
export function acquireLock(path: string, options: AcquireLockOptions = {}): PlanLock {
  const now = options.now ?? (() => new Date());
  const isAlive = options.isAlive ?? pidIsAlive;
  const info: LockInfo = {
    pid: options.pid ?? process.pid,
    host: options.host ?? hostname(),
    since: now().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  if (options.digest) info.digest = options.digest;
  if (options.target) info.target = options.target;
  if (options.plan) info.plan = options.plan;
  const what = options.target ? `another apply to ${options.target}` : 'another apply';

  const tmp = `${path}.${info.pid}.${info.token}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(info)}\n`, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    throw new OwnersyncError(`${path}: cannot create the apply lock: ${(err as Error).message}`);
  }
  try {
    // Two attempts: the second after removing a stale lock.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, path);
        return makeLock(path, info);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new OwnersyncError(`${path}: cannot create the apply lock: ${(err as Error).message}`);
        }
      }
      const holder = readLock(path);
      if (holder === 'missing') continue; // released in between: try again
      if (holder === undefined) {
        throw new RefusedError(
          `${path} exists but is not a valid ownersync lock; ${what} may be running. ` +
            `If none is, delete ${path} and run apply again.`,
        );
      }
      const sameHost = holder.host === info.host;
      if (sameHost && holder.pid !== info.pid && !isAlive(holder.pid)) {
        // Stale: its process is gone. Remove only if it is still that same lock.
        const again = readLock(path);
        if (again !== 'missing' && again !== undefined && again.token === holder.token) {
          try {
            unlinkSync(path);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }
        }
        continue;
      }
      throw new RefusedError(
        `${what} is running (${path}: ${holder.plan ? `${holder.plan}, ` : ''}pid ${holder.pid} on ${holder.host}, since ${holder.since}); ` +
          (sameHost
            ? `wait for it to finish. Nothing was changed by this run.`
            : `wait for it to finish. It cannot be checked from ${info.host}; if no apply is running on ${holder.host}, ` +
              `delete ${path} and run apply again.`),
      );
    }
    throw new RefusedError(`${path}: could not take the apply lock (it keeps reappearing); ${what} is starting. Try again.`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

function makeLock(path: string, info: LockInfo): PlanLock {
  let released = false;
  return {
    path,
    info,
    release(): void {
      if (released) return;
      released = true;
      const current = readLock(path);
      if (current !== 'missing' && current !== undefined && current.token === info.token) {
        try {
          unlinkSync(path);
        } catch {
          // best effort: a leftover lock with a dead pid is stale anyway
        }
      }
    },
  };
}
