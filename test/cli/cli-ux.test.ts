/**
 * The newcomer's path through the CLI (issue 15): help through @oclif/plugin-help,
 * typos through @oclif/plugin-not-found, one exit rule for `show`, clear messages for
 * a busy emulator port, an emulator that writes its config without clobbering a real
 * one, and a demo whose printed commands paste. All against the built CLI (bin/run.js).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writePlan } from '../../src/plan/index.js';
import { start } from '../../src/emulator/index.js';
import { makePlan, tempDir } from '../plan/helpers.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(REPO, 'bin/run.js');
const hasScript = spawnSync('sh', ['-c', 'command -v script']).status === 0;

const cli = (args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) =>
  spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...opts.env },
    timeout: 30_000,
  });

describe('help and typos (oclif plugins)', () => {
  it('`ownersync help plan` and `ownersync plan -h` print the plan command help (exit 0)', () => {
    for (const args of [['help', 'plan'], ['plan', '-h'], ['plan', '--help']]) {
      const r = cli(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('Compute the changes HelloID needs: write desired-state.yaml and plan.yaml.');
      expect(r.stdout).toContain('--detailed-exitcode');
    }
  });

  it('a mistyped command is a usage error (64) that points to help', () => {
    const r = cli(['plna']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('plna is not a ownersync command.');
    expect(r.stderr).toContain('Run ownersync help for a list of available commands.');
  });

  it.skipIf(!hasScript)('on a terminal, a mistyped command is answered with a suggestion', async () => {
    const cmd = `'${process.execPath}' '${BIN}' plna`;
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { PATH: process.env.PATH ?? '', TERM: 'dumb', NO_COLOR: '1' } });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        // Decline, once the question is on the screen: the suggestion is what is tested.
        if (text.includes('(Y/n)') && !child.stdin.writableEnded) child.stdin.end('n\r');
      });
      child.on('close', (code) => resolve({ code, text }));
    });
    // eslint-disable-next-line no-control-regex
    const plain = out.text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(plain).toContain('Did you mean plan?');
    expect(out.code).toBe(64);
  });
});

describe('show: exit 3 whenever the plan was modified after planning', () => {
  const { dir, cleanup } = tempDir('ownersync-show-exit-');
  afterAll(cleanup);
  const intact = path.join(dir, 'plan.yaml');
  writePlan(intact, makePlan());
  const text = readFileSync(intact, 'utf8');
  // Still reads as a plan, but no longer matches its digest (a display-only edit).
  const readable = path.join(dir, 'readable-edit.yaml');
  const reason = /reason: (.+)/.exec(text)![1]!;
  writeFileSync(readable, text.replace(`reason: ${reason}`, 'reason: looks harmless'));
  // No longer consistent (a user GUID changed in a change only): refused before rendering.
  const unreadable = path.join(dir, 'unreadable-edit.yaml');
  const at = text.indexOf('\nchanges:\n');
  writeFileSync(unreadable, text.slice(0, at) + text.slice(at).replace(/userGuid: ([0-9a-f])/, (_m, c: string) => `userGuid: ${c === 'a' ? 'b' : 'a'}`));
  const notAPlan = path.join(dir, 'not-a-plan.yaml');
  writeFileSync(notAPlan, 'hello: world\n');

  it('intact: exit 0, in every format', () => {
    for (const f of [[], ['--json'], ['--markdown']]) expect(cli(['show', intact, ...f]).status).toBe(0);
  });

  it('modified but readable: rendered (marked MODIFIED) and exit 3, in every format', () => {
    const t = cli(['show', readable]);
    expect(t.status).toBe(3);
    expect(t.stdout).toContain('MODIFIED after planning');
    expect(t.stderr).toContain(`${readable} has been modified after it was planned (its content no longer matches its digest): apply will refuse it.`);
    const j = cli(['show', readable, '--json']);
    expect(j.status).toBe(3);
    expect(JSON.parse(j.stdout).intact).toBe(false);
    const m = cli(['show', readable, '--markdown']);
    expect(m.status).toBe(3);
    expect(m.stdout).toContain('modified after it was planned');
  });

  it('modified so that it no longer reads: exit 3 too, with the reason', () => {
    const r = cli(['show', unreadable]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('has been modified after it was planned');
  });

  it('not a plan at all: exit 1', () => {
    const r = cli(['show', notAPlan]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(notAPlan);
  });
});

/** Runs `ownersync emulator …` until `until` appears in its output, then stops it. */
function emulatorUntil(args: string[], cwd: string, until: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'emulator', ...args], { cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
    let out = '';
    let err = '';
    const check = () => {
      if (until.test(out)) child.kill('SIGTERM');
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => ((out += d), check()));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('emulator', () => {
  const { dir, cleanup } = tempDir('ownersync-emulator-cli-');
  afterAll(cleanup);

  it('a busy port is explained, not a raw EADDRINUSE (exit 1)', async () => {
    const busy = await start({ fixture: path.join(REPO, 'examples/demo-tenant.yaml') });
    try {
      const port = new URL(busy.url).port;
      const r = await emulatorUntil(['--port', port], dir, /Press Ctrl\+C/);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`port ${port} on 127.0.0.1 is already in use (another emulator still running?): stop that program, or choose another port with --port (--port 0 picks a free one)`);
      expect(r.err).not.toContain('EADDRINUSE');
    } finally {
      await busy.stop();
    }
  });

  it('--write-config and --write-env write the files and keep running; a file it did not write is never overwritten', async () => {
    const r = await emulatorUntil(['--write-config', 'ownersync.yaml', '--write-env', 'emulator.env'], dir, /Wrote emulator\.env/);
    expect(r.out).toContain('Wrote ownersync.yaml (the configuration for this emulator).');
    expect(r.out).toContain('Wrote emulator.env; load it in the shell that runs ownersync:  . ./emulator.env');
    const config = readFileSync(path.join(dir, 'ownersync.yaml'), 'utf8');
    expect(config).toMatch(/^# Written by `ownersync emulator` for the emulator at https:\/\/127\.0\.0\.1:\d+/);
    expect(config).toContain('removeMembers: true');
    expect(config).toContain('clientSecret: ${OWNERSYNC_CLIENT_SECRET}');
    const env = readFileSync(path.join(dir, 'emulator.env'), 'utf8');
    expect(env).toMatch(/^export NODE_EXTRA_CA_CERTS=/m);
    expect(env).toMatch(/^export HELLOID_API_KEY=/m);

    // Its own file is rewritten on the next start (the port changes); a PowerShell variant too.
    const again = await emulatorUntil(['--write-config', 'ownersync.yaml', '--write-env', 'emulator-env.ps1'], dir, /Wrote emulator-env\.ps1/);
    expect(again.out).toContain('load it in the shell that runs ownersync:  . .\\emulator-env.ps1');
    expect(readFileSync(path.join(dir, 'emulator-env.ps1'), 'utf8')).toMatch(/^\$env:NODE_EXTRA_CA_CERTS = '.+'$/m);

    const mine = path.join(dir, 'mine.yaml');
    writeFileSync(mine, 'exchange: {}\n');
    const refused = await emulatorUntil(['--write-config', 'mine.yaml'], dir, /Press Ctrl\+C/);
    expect(refused.code).toBe(64);
    expect(refused.err).toContain('--write-config mine.yaml: the file exists and was not written by `ownersync emulator`; refusing to overwrite it.');
    expect(readFileSync(mine, 'utf8')).toBe('exchange: {}\n');
  });
});

describe('npm run demo', () => {
  it('prints every command as it ran, and the printed commands paste', async () => {
    const r = spawnSync(process.execPath, [path.join(REPO, 'scripts/demo.js')], { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2));
    expect(lines).toContain('ownersync approve plan.yaml --by "Demo Reviewer" --comment "checked against the mailbox owners list"');
    expect(lines).toHaveLength(6);
    expect(r.stdout + r.stderr).not.toContain('update available');
    // Pasted afterwards into a shell in the demo's directory (no emulator needed for these two).
    const work = path.join(REPO, 'tmp/demo');
    for (const line of lines.filter((l) => /^ownersync (show|approve) /.test(l))) {
      const pasted = spawnSync('bash', ['-c', line], { cwd: work, encoding: 'utf8', env: { ...process.env, PATH: `${path.join(work, '.bin')}:${process.env.PATH ?? ''}` } });
      expect(pasted.status, `${line}\n${pasted.stderr}`).toBe(0);
    }
    expect(existsSync(path.join(work, 'plan.yaml.receipt.json'))).toBe(true);
  }, 150_000);
});
