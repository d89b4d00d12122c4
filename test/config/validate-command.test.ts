import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Validate } from '../../src/commands/validate.js';
import { ConfigError, OwnersyncError } from '../../src/errors.js';
import { SENTINELS, variant } from './helpers.js';

/**
 * A bare oclif root for Validate.run: the real package root would make oclif scan
 * dist/commands, which other modules are building at the same time.
 */
let ROOT: string;

/** Run the command in-process, capturing what it prints. */
async function run(argv: string[]): Promise<{ out: string; result?: unknown; error?: unknown }> {
  const chunks: string[] = [];
  // oclif's this.log writes through console.log.
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    chunks.push(`${args.map(String).join(' ')}\n`);
  });
  try {
    const result = await Validate.run(argv, ROOT);
    return { out: chunks.join(''), result };
  } catch (error) {
    return { out: chunks.join(''), error };
  } finally {
    spy.mockRestore();
  }
}

describe('ownersync validate', () => {
  let dir: string;
  let good: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ownersync-validate-'));
    ROOT = path.join(dir, 'root');
    mkdirSync(ROOT);
    writeFileSync(path.join(ROOT, 'package.json'), JSON.stringify({ name: 'ownersync', version: '0.0.0', type: 'module', oclif: { bin: 'ownersync' } }));
    good = path.join(dir, 'good.yaml');
    writeFileSync(good, variant((o) => (o.exchange.organization = 'contoso.onmicrosoft.com')));
    for (const [k, v] of Object.entries(SENTINELS)) vi.stubEnv(k, v);
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });
  const realCheck = Validate.checkOnline;
  afterEach(() => {
    Validate.checkOnline = realCheck;
  });

  it('prints OK and a summary without secrets', async () => {
    const { out, error, result } = await run(['-c', good]);
    expect(error).toBeUndefined();
    expect(out).toBe(
      [
        `OK: ${good} is valid`,
        '  tenant:          0b9b6f5e-3c1a-4d2e-9f70-2a4c8d1e5b36 (contoso.onmicrosoft.com), O365Default',
        '  Exchange:        https://outlook.office365.com (sign-in https://login.microsoftonline.com)',
        '  HelloID:         https://contoso.helloid.com',
        '  auth:            client secret',
        'scope:',
        '  mailboxes:       every shared mailbox (exchange.mailboxFilter is not set)',
        '  holders:         FullAccess, direct and through mail-enabled security groups (expandGroups)',
        '  owner group:     "" + mailbox DisplayName + " Resource Owners"; e.g. mailbox "Sales" → group "Sales Resource Owners"',
        '  group source:    HelloID groups of source Local',
        '  removeMembers:   false: members without FullAccess are kept (listed as kept)',
        '  protectedUsers:  none',
        '  limits:          maxRemovals 100, maxRemovalPercent 25, allowEmptyingGroups false',
        '  plans:           expire after 72h; apply does not require a signature',
        '',
      ].join('\n'),
    );
    for (const s of Object.values(SENTINELS)) expect(JSON.stringify(result)).not.toContain(s);
  });

  it('shows a mailbox filter, a prefix, another source, removals and no protected users as set', async () => {
    const p = path.join(dir, 'scoped.yaml');
    writeFileSync(
      p,
      variant((o) => {
        o.exchange.mailboxFilter = "DisplayName -like 'Shared-*'";
        o.exchange.expandGroups = false;
        o.sync = { ...(o.sync as object), groupPrefix: 'MBX-', groupSuffix: '', groupSource: 'AzureAD', removeMembers: true, protectedUsers: [] };
      }),
    );
    const { out, error } = await run(['-c', p]);
    expect(error).toBeUndefined();
    expect(out).toContain("  mailboxes:       shared mailboxes matching exchange.mailboxFilter: DisplayName -like 'Shared-*'\n");
    expect(out).toContain('  holders:         FullAccess, direct only; group grants are reported as unresolved (expandGroups: false)\n');
    expect(out).toContain('  owner group:     "MBX-" + mailbox DisplayName + ""; e.g. mailbox "Sales" → group "MBX-Sales"\n');
    expect(out).toContain('  group source:    HelloID groups of source AzureAD\n');
    expect(out).toContain('  removeMembers:   true: members without FullAccess are removed\n');
    expect(out).toContain('  protectedUsers:  none\n');
  });

  it('names the certificate when that is the auth method', async () => {
    const p = path.join(dir, 'cert.yaml');
    writeFileSync(path.join(dir, 'app.pem'), 'x');
    writeFileSync(p, variant((o) => { delete o.exchange.clientSecret; o.exchange.certificate = { path: 'app.pem' }; }));
    const { out } = await run(['--config', p]);
    expect(out).toContain(`  auth:            certificate ${path.join(dir, 'app.pem')}\n`);
  });

  it('throws the ConfigError with every problem', async () => {
    const p = path.join(dir, 'bad.yaml');
    writeFileSync(p, variant((o) => (o.sync = { removeMembers: 'yes', limits: { maxRemoval: 1 } })));
    const { out, error } = await run(['-c', p]);
    expect(out).toBe('');
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      `${p}: sync.removeMembers must be boolean`,
      `${p}: sync.limits has unknown key "maxRemoval" (did you mean "maxRemovals"?)`,
    ]);
  });

  it('defaults to ownersync.yaml in the working directory', async () => {
    const cwd = process.cwd();
    const empty = mkdtempSync(path.join(tmpdir(), 'ownersync-cwd-'));
    process.chdir(empty);
    try {
      const { error } = await run([]);
      expect((error as ConfigError).problems).toEqual([
        `ownersync.yaml: cannot read the configuration file: no such file (looked for ${path.join(empty, 'ownersync.yaml')}; use -c to name another file)`,
      ]);
    } finally {
      process.chdir(cwd);
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('--online runs the online check and fails when one service fails', async () => {
    const seen: string[] = [];
    Validate.checkOnline = async (cfg) => {
      seen.push(cfg.helloid.baseUrl);
      return [
        { service: 'Entra ID', ok: true, detail: 'token acquired' },
        { service: 'HelloID', ok: false, detail: `401 Unauthorized (key ${SENTINELS.HELLOID_API_KEY})` },
      ];
    };
    const { out, error } = await run(['-c', good, '--online']);
    expect(seen).toEqual(['https://contoso.helloid.com']);
    expect(out).toContain('online checks:\n  ok    Entra ID: token acquired\n  FAIL  HelloID: 401 Unauthorized (key ***)\n');
    expect(out).not.toContain(SENTINELS.HELLOID_API_KEY);
    expect((error as OwnersyncError).message).toBe('online check failed: HelloID');
    expect((error as OwnersyncError).exitCode).toBe(1);
  });

  it('--online succeeds when every check passes', async () => {
    Validate.checkOnline = async () => [{ service: 'HelloID', ok: true, detail: 'reachable' }];
    const { out, error } = await run(['-c', good, '--online']);
    expect(error).toBeUndefined();
    expect(out).toContain('  ok    HelloID: reachable\n');
  });
});
