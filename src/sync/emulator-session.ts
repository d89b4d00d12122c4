/**
 * What `ownersync emulator` runs: the emulator on a tenant fixture (with the faults the
 * flags ask for, and the config and environment files for the shell that runs
 * ownersync), or the replay of a recorded transcript. The command renders the result
 * (src/cli/render/emulator.ts) and waits for a signal. Lives beside demo.ts, not in
 * src/emulator: the config it writes is the client side's, and the emulator shares no
 * code with the clients.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OwnersyncError, UsageError } from '../errors.js';
import { DEMO_FIXTURE_URL, start, type Emulator, type Faults } from '../emulator/index.js';
import { startReplay, type Replay } from '../emulator/replay.js';
import { demoConfigText } from './demo.js';

/** examples/demo-tenant.yaml, the fixture served when none is named. */
export const DEFAULT_FIXTURE = fileURLToPath(DEMO_FIXTURE_URL);

/** First line of every file the emulator command writes: only such files are overwritten. */
const WRITTEN_MARK = '# Written by `ownersync emulator`';

/** The fault flags of `ownersync emulator`, as oclif parsed them (fractions still text). */
export interface FaultFlags {
  latency?: number;
  concurrency?: number;
  seed?: number;
  'retry-after'?: string;
  'fail-rate'?: string;
  'transient-rate'?: string;
}

export interface ServeFixtureOptions {
  /** Default: the bundled demo tenant. */
  fixture?: string;
  port: number;
  faults: FaultFlags;
  controlToken?: string;
  /** Requests kept in the request log (default: the emulator's). */
  logLimit?: number;
  /** Keep the CA certificate here (default: a temp file removed at stop). */
  caOut?: string;
  /** Write an ownersync.yaml for this emulator here. */
  writeConfig?: string;
  /** Write the environment here (`export` lines, or PowerShell for a .ps1 file). */
  writeEnv?: string;
}

/** A running emulator or replay, as the command renders it. */
export type Served =
  | { kind: 'fixture'; emu: Emulator; fixturePath: string; writeConfig?: string; writeEnv?: string; stop: () => Promise<void> }
  | { kind: 'replay'; replay: Replay; file: string; stop: () => Promise<void> };

/** Start the emulator on a fixture and write the files asked for; on a failure nothing keeps running. */
export async function serveFixture(o: ServeFixtureOptions): Promise<Served> {
  const fixturePath = o.fixture ?? DEFAULT_FIXTURE;
  const emu = await startOrExplain({ fixture: fixturePath, port: o.port, faults: faultsOf(o.faults), options: { controlToken: o.controlToken, caPath: o.caOut, ...(o.logLimit !== undefined ? { logLimit: o.logLimit } : {}) } });
  try {
    if (o.writeConfig) writeOwnFile(o.writeConfig, emulatorConfigText(emu, fixturePath), '--write-config', 0o644);
    if (o.writeEnv) writeOwnFile(o.writeEnv, emulatorEnvText(emu, o.writeEnv), '--write-env', 0o600);
  } catch (err) {
    await emu.stop();
    throw err;
  }
  return { kind: 'fixture', emu, fixturePath, writeConfig: o.writeConfig, writeEnv: o.writeEnv, stop: () => emu.stop() };
}

/** Serve a transcript recorded with `--record`: each request gets the recorded answer. */
export async function serveReplay(file: string, port: number, caOut?: string): Promise<Served> {
  const replay = await startReplay({ transcript: file, port, ...(caOut ? { caPath: caOut } : {}) });
  return { kind: 'replay', replay, file, stop: () => replay.stop() };
}

/** Resolves with the signal's name when the process is asked to stop (SIGINT or SIGTERM). */
export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (sig: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = done('SIGINT');
    const onTerm = done('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

/** The emulator's faults from the flags; a fraction out of range is a usage error naming the flag. */
function faultsOf(f: FaultFlags): Partial<Faults> {
  const faults: Partial<Faults> = {};
  if (f.latency !== undefined) faults.latencyMs = f.latency;
  if (f.concurrency !== undefined) faults.concurrency = { entra: f.concurrency, exchange: f.concurrency, helloid: f.concurrency };
  if (f.seed !== undefined) faults.seed = f.seed;
  if (f['retry-after'] !== undefined) faults.retryAfterSeconds = fraction(f['retry-after'], '--retry-after', Number.POSITIVE_INFINITY);
  if (f['fail-rate'] !== undefined) faults.randomFailRate = fraction(f['fail-rate'], '--fail-rate', 1);
  if (f['transient-rate'] !== undefined) faults.transientRate = fraction(f['transient-rate'], '--transient-rate', 1);
  return faults;
}

function fraction(text: string, flag: string, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new UsageError(`${flag} must be a number between 0 and ${max === 1 ? '1' : 'any positive value'}, got '${text}'`);
  return n;
}

/** start(), with a busy port explained instead of a raw EADDRINUSE. */
async function startOrExplain(opts: Parameters<typeof start>[0]): Promise<Emulator> {
  try {
    return await start(opts);
  } catch (err) {
    if ((err as { code?: string }).code === 'EADDRINUSE') {
      throw new OwnersyncError(`port ${opts.port} on 127.0.0.1 is already in use (another emulator still running?): stop that program, or choose another port with --port (--port 0 picks a free one)`);
    }
    throw err;
  }
}

/**
 * The config for this emulator. For the bundled demo tenant it is the demo's config
 * (with its sync section: owner groups "<mailbox> Resource Owners", removeMembers on),
 * the one `npm run demo` uses; for another fixture the bare connection settings.
 */
export function emulatorConfigText(emu: Emulator, fixturePath: string): string {
  const s = emu.clientSettings();
  const body =
    resolve(fixturePath) === resolve(DEFAULT_FIXTURE) && s.clientSecret
      ? demoConfigText({ tenantId: s.tenantId, organization: s.organization, clientId: s.clientId, url: emu.url })
      : emu.configSnippet();
  return `${WRITTEN_MARK} for the emulator at ${emu.url}; it is rewritten on the next start.\n${body}`;
}

/** The environment for the shell that runs ownersync: POSIX `export`, or PowerShell `$env:` for a .ps1 file. */
export function emulatorEnvText(emu: Emulator, file: string): string {
  const ps = file.toLowerCase().endsWith('.ps1');
  const lines = Object.entries(emu.env()).map(([k, v]) => (ps ? `$env:${k} = '${v.replace(/'/g, "''")}'` : `export ${k}=${shellQuote(v)}`));
  return [`${WRITTEN_MARK}: emulator-only credentials, accepted nowhere else. Load it with:  ${loadHint(file)}`, ...lines, ''].join('\n');
}

/** How to load the env file into the current shell (a bare name needs ./ or .\\ to be found). */
export function loadHint(file: string): string {
  if (file.toLowerCase().endsWith('.ps1')) return `. ${/[\\/]/.test(file) ? file : `.\\${file}`}`;
  return `. ${file.includes('/') ? file : `./${file}`}`;
}

/** A value as a POSIX shell word: bare when safe, single-quoted otherwise. */
export function shellQuote(v: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`;
}

/** Writes `text` to `file` unless it is a file this command did not write (a real config is never overwritten). */
function writeOwnFile(file: string, text: string, flag: string, mode: number): void {
  if (existsSync(file) && !readFileSync(file, 'utf8').startsWith(WRITTEN_MARK)) {
    throw new UsageError(`${flag} ${file}: the file exists and was not written by \`ownersync emulator\`; refusing to overwrite it. Choose another file name.`);
  }
  writeFileSync(file, text, { mode });
}
