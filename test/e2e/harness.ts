/**
 * End-to-end harness: a real emulator on 127.0.0.1:0, a temporary working directory
 * with an ownersync.yaml pointing at it, and the built CLI (`npm test` builds dist/
 * first) run as a child process exactly as a user runs it, trusting the emulator's
 * CA through NODE_EXTRA_CA_CERTS. The child is spawned asynchronously: the emulator
 * answers from this process's event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_FIXTURE_URL, start, type Emulator, type StartOptions } from '../../src/emulator/index.js';
import type { PlanFile } from '../../src/plan/index.js';
import { configYaml, type SyncSettings } from './config-yaml.js';

export { configYaml, type SyncSettings };

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO, 'bin/run.js');
export const DEMO_FIXTURE = fileURLToPath(DEMO_FIXTURE_URL);

if (!existsSync(path.join(REPO, 'dist/cli/main.js'))) {
  throw new Error('dist/ is missing: run `npm run build` (npm test does it) before the e2e tests');
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A run's exit code and output, for an assertion message. */
export function show(r: RunResult): string {
  return `exit ${r.code} (signal ${r.signal})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** A plan's changes, one line each: "add|remove <group> <user>". */
export function changeLines(p: PlanFile): string[] {
  return p.changes.map((c) => `${c.action} ${c.groupName} ${c.userName}`);
}

/** A plan's kept members, one line each: "<group> <user>: <reason>". */
export function keptLines(p: PlanFile): string[] {
  return p.kept.map((k) => `${k.groupName} ${k.userName}: ${k.reason}`);
}

export interface Env {
  emulator: Emulator;
  dir: string;
  configPath: string;
  /** Environment for the CLI: secrets, NODE_EXTRA_CA_CERTS, no colour, no CI summary. */
  env: Record<string, string>;
  run(args: string[], opts?: { env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<RunResult>;
  spawnCli(args: string[], opts?: { env?: Record<string, string | undefined> }): ChildProcess;
  writeConfig(settings: SyncSettings): void;
  file(name: string): string;
  read(name: string): string;
  stop(): Promise<void>;
}

export async function setup(opts: Partial<StartOptions> & { sync?: SyncSettings } = {}): Promise<Env> {
  const emulator = await start({ fixture: opts.fixture ?? DEMO_FIXTURE, ...(opts.faults ? { faults: opts.faults } : {}), ...(opts.options ? { options: opts.options } : {}) });
  const dir = mkdtempSync(path.join(tmpdir(), 'ownersync-e2e-'));
  const configPath = path.join(dir, 'ownersync.yaml');
  const c = emulator.clientSettings();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    NODE_EXTRA_CA_CERTS: emulator.caPath,
    OWNERSYNC_CLIENT_SECRET: c.clientSecret ?? '',
    HELLOID_API_KEY: c.helloidApiKey,
    HELLOID_API_SECRET: c.helloidApiSecret,
    NO_COLOR: '1',
  };
  const writeConfig = (s: SyncSettings) => writeFileSync(configPath, configYaml(emulator, s));
  writeConfig(opts.sync ?? {});

  const spawnCli = (args: string[], o: { env?: Record<string, string | undefined> } = {}) => {
    const childEnv: Record<string, string> = { ...env };
    for (const [k, v] of Object.entries(o.env ?? {})) {
      if (v === undefined) delete childEnv[k];
      else childEnv[k] = v;
    }
    return spawn(process.execPath, [BIN, ...args], { cwd: dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  };

  const run = (args: string[], o: { env?: Record<string, string | undefined>; timeoutMs?: number } = {}) =>
    new Promise<RunResult>((resolve, reject) => {
      const child = spawnCli(args, o);
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`ownersync ${args.join(' ')} did not finish within ${o.timeoutMs ?? 60_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, o.timeoutMs ?? 60_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });

  return {
    emulator,
    dir,
    configPath,
    env,
    run,
    spawnCli,
    writeConfig,
    file: (name) => path.join(dir, name),
    read: (name) => readFileSync(path.join(dir, name), 'utf8'),
    stop: async () => {
      await emulator.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** HelloID write requests (POST/DELETE on group membership) the emulator has seen so far. */
export function helloidWrites(em: Emulator): number {
  return em.stats().log.filter((e) => e.service === 'helloid' && (e.method === 'POST' || e.method === 'DELETE')).length;
}
