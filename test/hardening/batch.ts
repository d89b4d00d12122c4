/**
 * Runs a list of ownersync command lines in one child process (cli-batch.mjs) and
 * returns one result per line; and `spawnCli`, the real bin in its own process, for
 * the sample that checks the batch runner tells the truth.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, REPO } from '../e2e/harness.js';

export interface BatchJob {
  args: string[];
  /** null removes the variable for this job. */
  env?: Record<string, string | null>;
}

export interface BatchResult {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
  /** main() itself threw (it must not). */
  thrown?: string;
  /** Unhandled rejections / uncaught exceptions seen during the job. */
  crashes: string[];
  /** Wall time of the job in the runner. */
  ms: number;
}

const RUNNER = path.join(REPO, 'test/hardening/cli-batch.mjs');

function baseEnv(cwd: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: cwd, NO_COLOR: '1', ...extra };
}

/** Run `jobs` in one process with `cwd` as working directory. */
export function runBatch(jobs: BatchJob[], cwd: string, env: Record<string, string> = {}): Promise<BatchResult[]> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'ownersync-batch-'));
  const jobsFile = path.join(tmp, 'jobs.json');
  const resultsFile = path.join(tmp, 'results.json');
  writeFileSync(jobsFile, JSON.stringify(jobs));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUNNER, jobsFile, resultsFile], { cwd, env: baseEnv(cwd, env), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (process.env.BATCH_TRACE) process.stderr.write(d);
    });
    child.stdout.resume();
    child.on('close', (code) => {
      try {
        const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as BatchResult[];
        resolve(results);
      } catch (e) {
        reject(new Error(`batch runner failed (exit ${code}): ${err}\n${String(e)}`));
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
}

export interface SpawnResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real bin, one process, with `cwd` and extra environment. */
export function spawnCli(args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: baseEnv(cwd, env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ownersync ${args.join(' ')} timed out\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
