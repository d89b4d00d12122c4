/**
 * End-to-end: `node bin/run.js validate` as a user runs it, exit codes included.
 * Runs the built CLI (`npm test` builds first) in a temporary working directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENTINELS, variant } from './helpers.js';

const REPO = path.resolve(import.meta.dirname, '../..');

describe('ownersync validate (spawned CLI)', () => {
  let pkg: string;

  // `npm test` builds dist/ first; the CLI runs from the repository as a user runs it.
  beforeAll(() => {
    pkg = mkdtempSync(path.join(tmpdir(), 'ownersync-cli-'));
  });

  afterAll(() => rmSync(pkg, { recursive: true, force: true }));

  const cli = (args: string[], env: Record<string, string> = SENTINELS) =>
    spawnSync(process.execPath, [path.join(REPO, 'bin/run.js'), ...args], {
      cwd: pkg,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: pkg, ...env },
    });

  it('exits 0 and prints OK with a summary', () => {
    writeFileSync(path.join(pkg, 'good.yaml'), variant(() => {}));
    const r = cli(['validate', '-c', 'good.yaml']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^OK: good\.yaml is valid\n {2}tenant: /);
    for (const s of Object.values(SENTINELS)) expect(r.stdout).not.toContain(s);
  });

  it('validates the shipped example', () => {
    const r = cli(['validate', '-c', path.join(REPO, 'examples/ownersync.yaml')]);
    expect(r.status).toBe(0);
    // The unedited example shows its effective scope, not just "OK" (mailboxFilter ships commented out).
    expect(r.stdout).toContain('  mailboxes:       every shared mailbox (exchange.mailboxFilter is not set)\n');
    expect(r.stdout).toContain('  owner group:     "" + mailbox DisplayName + " Resource Owners"; e.g. mailbox "Sales" → group "Sales Resource Owners"\n');
    expect(r.stdout).toContain('  group source:    HelloID groups of source Local\n');
    expect(r.stdout).toContain('  removeMembers:   false: members without FullAccess are kept (listed as kept)\n');
    expect(r.stdout).toContain('  protectedUsers:  1 user never removed\n');
    expect(r.stdout).toContain('  limits:          maxRemovals 100, maxRemovalPercent 25, allowEmptyingGroups false\n');
  });

  it('exits 1 and prints every problem, without a stack trace or a secret', () => {
    writeFileSync(
      path.join(pkg, 'bad.yaml'),
      variant((o) => {
        o.exchange.tenantId = '${OWNERSYNC_CLIENT_SECRET}';
        o.sync = { removeMembers: 'yes' };
      }),
    );
    const r = cli(['validate', '-c', 'bad.yaml']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('Error: bad.yaml: exchange.tenantId must be a GUID\nbad.yaml: sync.removeMembers must be boolean\n');
  });

  it('exits 1 naming a missing file', () => {
    const r = cli(['validate']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ownersync.yaml: cannot read the configuration file: no such file');
  });

  it('exits 64 on an unknown flag', () => {
    const r = cli(['validate', '--onlin']);
    expect(r.status).toBe(64);
  });

});
