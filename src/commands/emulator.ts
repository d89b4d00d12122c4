/**
 * `ownersync emulator`: run the local emulator of Entra ID, the Exchange Online admin
 * API and HelloID until SIGINT/SIGTERM, and print what a user needs to point
 * ownersync (in another shell) at it: the base URL, the CA file and the
 * NODE_EXTRA_CA_CERTS line, the emulator-only credentials, an ownersync.yaml snippet
 * and the control token. --write-config / --write-env put the config and the
 * environment in files, so the README's quick start runs as printed: the emulator in
 * one shell, ownersync in another.
 */
import { Flags } from '@oclif/core';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaseCommand } from '../cli/base-command.js';
import { OwnersyncError, UsageError } from '../errors.js';
import { start, type Emulator, type Faults } from '../emulator/index.js';
import { startReplay, type Replay } from '../emulator/replay.js';
import { demoConfigText } from '../sync/demo.js';
import { plural } from '../cli/plural.js';

/** examples/demo-tenant.yaml: the compiled file is dist/commands/emulator.js, the package root two levels up. */
export const DEFAULT_FIXTURE = fileURLToPath(new URL('../../examples/demo-tenant.yaml', import.meta.url));

/** What the command prints once the emulator listens. */
export function renderBanner(emu: Emulator, fixturePath: string): string {
  const ex = emu.state.exchange;
  const shared = ex.mailboxes.filter((m) => m.recipientTypeDetails === 'SharedMailbox').length;
  const env = emu.env();
  const lines = [
    'ownersync emulator: Entra ID, Exchange Online admin API and HelloID',
    `  fixture   ${fixturePath} (${emu.model.displayName}: ${plural(shared, 'shared mailbox', 'shared mailboxes')}, ${plural(ex.users.filter((u) => u.kind === 'user').length, 'user')}, ${plural(emu.state.helloid.groups.length, 'HelloID group')})`,
    `  base URL  ${emu.url}`,
    `  CA        ${emu.caPath}`,
    `  control   ${emu.url}/_emulator/stats   (Authorization: Bearer ${emu.controlToken})`,
    '',
    '# In the shell that runs ownersync (NODE_EXTRA_CA_CERTS is read when node starts):',
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    '# (emulator-only credentials from the fixture; they are accepted nowhere else)',
    '',
    emu.configSnippet().trimEnd(),
    '',
    'Press Ctrl+C to stop.',
  ];
  return lines.join('\n');
}

/** First line of every file this command writes: only such files are overwritten. */
const WRITTEN_MARK = '# Written by `ownersync emulator`';

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

/** Writes `text` to `file` unless it is a file this command did not write (a real config is never overwritten). */
function writeOwnFile(file: string, text: string, flag: string, mode: number): void {
  if (existsSync(file) && !readFileSync(file, 'utf8').startsWith(WRITTEN_MARK)) {
    throw new UsageError(`${flag} ${file}: the file exists and was not written by \`ownersync emulator\`; refusing to overwrite it. Choose another file name.`);
  }
  writeFileSync(file, text, { mode });
}

function shellQuote(v: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`;
}

export class EmulatorCommand extends BaseCommand {
  static override summary = 'Run the local emulator of Entra ID, Exchange Online and HelloID.';
  static override description =
    'Serves a tenant fixture over HTTPS on 127.0.0.1 with a throwaway CA, prints how to point ownersync at it, and runs until Ctrl+C. Fault controls (latency, concurrency limits, random failures) can be set here and changed at run time through the control endpoints under /_emulator/ (GET stats, POST faults, POST reset-stats, /_emulator/helloid/groups/…), which require the printed control token.';
  static override examples = [
    '<%= config.bin %> emulator',
    '<%= config.bin %> emulator --write-config ownersync.yaml --write-env emulator.env',
    '<%= config.bin %> emulator --write-config ownersync.yaml --write-env emulator-env.ps1',
    '<%= config.bin %> emulator --port 8443 --latency 50 --concurrency 4',
    '<%= config.bin %> emulator --fixture /tmp/tenant.json --fail-rate 0.05 --seed 7',
    '<%= config.bin %> emulator --transient-rate 0.1',
  ];
  static override flags = {
    fixture: Flags.string({ char: 'f', description: 'Tenant fixture (.yaml or .json). Default: the bundled demo tenant.' }),
    port: Flags.integer({ char: 'p', description: 'Port on 127.0.0.1 (0 = any free port).', default: 0, min: 0, max: 65535 }),
    latency: Flags.integer({ description: 'Added latency per request (ms).', min: 0 }),
    concurrency: Flags.integer({ description: 'In-flight limit per service; above it requests get 429 with Retry-After.', min: 1 }),
    'retry-after': Flags.string({ description: 'Retry-After on 429/503, in seconds (may be fractional).' }),
    'fail-rate': Flags.string({ description: 'Fraction (0..1) of requests failing with a random 429 or 503.' }),
    'transient-rate': Flags.string({ description: 'Fraction (0..1) of Exchange requests answered with a transient HTTP 400 (ServerBusyException and the like), as the live admin API reports "busy".' }),
    seed: Flags.integer({ description: 'Seed for the random faults.' }),
    'control-token': Flags.string({ description: 'Token for /_emulator/* (default: random, printed).', env: 'OWNERSYNC_EMULATOR_CONTROL_TOKEN' }),
    'ca-out': Flags.string({ description: 'Also keep the CA certificate at this path (default: a temp file removed at exit).' }),
    replay: Flags.string({ description: 'Serve a transcript recorded with `plan --record` instead of a fixture: each request gets the recorded answer.', exclusive: ['fixture', 'latency', 'concurrency', 'retry-after', 'fail-rate', 'seed'] }),
    'write-config': Flags.string({ description: 'Write an ownersync.yaml for this emulator to this file, then keep running. Overwrites only a file it wrote before.' }),
    'write-env': Flags.string({ description: 'Write the environment (credentials, NODE_EXTRA_CA_CERTS) to this file: `export` lines, or PowerShell `$env:` lines for a .ps1 file.' }),
  };

  /** Resolves when the process is asked to stop; replaceable in tests. */
  static waitForStop: () => Promise<string> = () =>
    new Promise((resolve) => {
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

  async run(): Promise<void> {
    const { flags } = await this.parse(EmulatorCommand);
    if (flags.replay) return this.replay(flags.replay, flags.port, flags['ca-out']);
    const faults: Partial<Faults> = {};
    if (flags.latency !== undefined) faults.latencyMs = flags.latency;
    if (flags.concurrency !== undefined) faults.concurrency = { entra: flags.concurrency, exchange: flags.concurrency, helloid: flags.concurrency };
    if (flags.seed !== undefined) faults.seed = flags.seed;
    if (flags['retry-after'] !== undefined) faults.retryAfterSeconds = fraction(flags['retry-after'], '--retry-after', Number.POSITIVE_INFINITY);
    if (flags['fail-rate'] !== undefined) faults.randomFailRate = fraction(flags['fail-rate'], '--fail-rate', 1);
    if (flags['transient-rate'] !== undefined) faults.transientRate = fraction(flags['transient-rate'], '--transient-rate', 1);

    const fixturePath = flags.fixture ?? DEFAULT_FIXTURE;
    const emu = await startOrExplain({
      fixture: fixturePath,
      port: flags.port,
      faults,
      options: { controlToken: flags['control-token'], caPath: flags['ca-out'] },
    });
    try {
      if (flags['write-config']) writeOwnFile(flags['write-config'], emulatorConfigText(emu, fixturePath), '--write-config', 0o644);
      if (flags['write-env']) writeOwnFile(flags['write-env'], emulatorEnvText(emu, flags['write-env']), '--write-env', 0o600);
      this.log(renderBanner(emu, fixturePath));
      if (flags['write-config']) this.log(`\nWrote ${flags['write-config']} (the configuration for this emulator).`);
      if (flags['write-env']) this.log(`Wrote ${flags['write-env']}; load it in the shell that runs ownersync:  ${loadHint(flags['write-env'])}`);
      const sig = await EmulatorCommand.waitForStop();
      const s = emu.stats();
      this.logToStderr(`\n${sig}: stopping after ${plural(s.totals.requests, 'request')} (${s.totals.status429} × 429, ${s.totals.status5xx} × 5xx).`);
    } finally {
      await emu.stop();
    }
  }

  private async replay(file: string, port: number, caOut: string | undefined): Promise<void> {
    const r = await startReplay({ transcript: file, port, ...(caOut ? { caPath: caOut } : {}) });
    try {
      this.log(replayBanner(r, file));
      const sig = await EmulatorCommand.waitForStop();
      const misses = r.misses();
      this.logToStderr(`\n${sig}: stopping after ${r.served()} replayed answers${misses.length > 0 ? `; ${misses.length} requests had no recorded answer, e.g. ${misses[0]}` : ''}.`);
    } finally {
      await r.stop();
    }
  }
}

function replayBanner(r: Replay, file: string): string {
  return [
    'ownersync emulator: replay of a recorded transcript',
    `  transcript ${file} (${r.transcript.header.command}, recorded ${r.transcript.header.createdAt}, ${r.transcript.entries.length} exchanges${r.transcript.header.pseudonymised ? ', pseudonymised' : ', RAW'})`,
    `  base URL   ${r.url}`,
    `  CA         ${r.caPath}`,
    '',
    '# In the shell that runs ownersync (any credentials are accepted):',
    ...Object.entries(r.env()).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    '',
    r.configSnippet().trimEnd(),
    '',
    'Press Ctrl+C to stop.',
  ].join('\n');
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

function fraction(text: string, flag: string, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new UsageError(`${flag} must be a number between 0 and ${max === 1 ? '1' : 'any positive value'}, got '${text}'`);
  return n;
}

export default EmulatorCommand;
