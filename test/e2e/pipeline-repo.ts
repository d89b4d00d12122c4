/**
 * The world around the example pipeline, for the pipeline e2e test: a throwaway git
 * "origin" (a bare repository in a temp dir, default branch main), fresh clones as job
 * workspaces (what actions/checkout gives each job), clones for the people in the flow
 * (the plan bot that proposes, the reviewer, the maintainer who merges), and a bin
 * directory with the `ownersync` shim that stands in for `npm install --global
 * ownersync`. Git runs with a private HOME and no system config, so the developer's own
 * git settings cannot leak in. Nothing here touches the repository the tests live in.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN } from './harness.js';

export interface PipelineWorld {
  root: string;
  origin: string;
  home: string;
  /** Directory with the `ownersync` shim; put it first on PATH. */
  binDir: string;
  /** PATH with the shim first. */
  path: string;
  /** Environment for git and for people's shell sessions (no secrets). */
  baseEnv: Record<string, string>;
  /** A fresh clone of origin under root/name (checked out at origin's HEAD, main). */
  clone(name: string): string;
  git(cwd: string, ...args: string[]): string;
  /** Run a shell session as a person would (bash -eo pipefail), with the shim on PATH. */
  sh(cwd: string, script: string, env?: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** A fresh temp dir under root (RUNNER_TEMP of one job). */
  tempDir(name: string): string;
  remove(): void;
}

export function createWorld(opts: { ownersyncBin?: string } = {}): PipelineWorld {
  const root = mkdtempSync(path.join(tmpdir(), 'ownersync-pipeline-'));
  const home = path.join(root, 'home');
  const binDir = path.join(root, 'bin');
  mkdirSync(home);
  mkdirSync(binDir);
  // Stands in for `npm install --global ownersync@VERSION`: the built CLI of this checkout.
  const shim = path.join(binDir, 'ownersync');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${opts.ownersyncBin ?? BIN}" "$@"\n`);
  chmodSync(shim, 0o755);
  const searchPath = `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  const baseEnv: Record<string, string> = {
    PATH: searchPath,
    HOME: home,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test Person',
    GIT_AUTHOR_EMAIL: 'person@example.test',
    GIT_COMMITTER_NAME: 'Test Person',
    GIT_COMMITTER_EMAIL: 'person@example.test',
  };
  const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: baseEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const origin = path.join(root, 'origin.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', origin], { env: baseEnv });
  let n = 0;
  return {
    root,
    origin,
    home,
    binDir,
    path: searchPath,
    baseEnv,
    git,
    clone(name) {
      const dir = path.join(root, `${String(++n).padStart(2, '0')}-${name}`);
      git(root, 'clone', '--quiet', origin, dir);
      return dir;
    },
    sh(cwd, script, env = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    tempDir(name) {
      const dir = path.join(root, `${String(++n).padStart(2, '0')}-${name}`);
      mkdirSync(dir);
      return dir;
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Whether a changed file matches a workflow `paths:` filter (only the two forms the examples use: exact, and `dir/**`). */
export function pathsFilterMatches(filters: string[], changed: string[]): boolean {
  const one = (f: string, p: string): boolean => {
    if (f.endsWith('/**')) return p.startsWith(f.slice(0, -2));
    if (/[*?[\]!]/.test(f)) throw new Error(`paths filter '${f}' is not emulated`);
    return f === p;
  };
  return changed.some((p) => filters.some((f) => one(f, p)));
}
