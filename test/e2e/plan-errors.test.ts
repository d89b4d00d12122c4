/**
 * `ownersync plan` failing or refusing cleanly, through the built CLI over HTTPS
 * against the emulator: a wrong Entra client secret, a wrong HelloID API secret, a
 * mailbox filter that matches nothing (exit 1, nothing written, secrets nowhere), and
 * the removal safety limits (exit 3 and nothing written; `--override-limits` lets the
 * plan through and records the override where the reviewer sees it); output paths
 * that cannot be written fail before anything is written, missing directories are made.
 *
 * Runs are sequential on purpose: "nothing written" is checked as "no new file in
 * the working directory", which needs one CLI process at a time.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFixture } from '../../src/emulator/index.js';
import type { PlanFile } from '../../src/plan/index.js';
import { configYaml, setup, show, type Env, type RunResult, type SyncSettings } from './harness.js';


/** Every file under `dir`, relative, sorted. */
function filesIn(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...filesIn(full, base));
    else out.push(path.relative(base, full));
  }
  return out.sort();
}

/** Run the CLI and report which files appeared in the working directory meanwhile. */
async function runTracked(e: Env, args: string[], env?: Record<string, string>): Promise<RunResult & { newFiles: string[] }> {
  const before = new Set(filesIn(e.dir));
  const r = await e.run(args, env ? { env } : {});
  return { ...r, newFiles: filesIn(e.dir).filter((f) => !before.has(f)) };
}

function writeConfig(e: Env, name: string, s: SyncSettings): string {
  writeFileSync(e.file(name), configYaml(e.emulator, s));
  return name;
}

/** The demo tenant; plans only read it, so every describe below shares it. */
let e: Env;
beforeAll(async () => {
  e = await setup();
});
afterAll(async () => e?.stop());

describe('plan fails cleanly on bad credentials, an empty scope and unwritable outputs', () => {
  it('a wrong client secret: exit 1, names Entra ID and the tenant, the secret appears nowhere, nothing written', async () => {
    const wrong = 'wrong-client-secret-Zq8v3KXp';
    const real = e.env.OWNERSYNC_CLIENT_SECRET!;
    // --debug too: not even a stack trace may carry the secret.
    const r = await runTracked(e, ['plan', '--debug'], { OWNERSYNC_CLIENT_SECRET: wrong });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toContain('Entra ID');
    expect(r.stderr).toContain(e.emulator.tenantId);
    expect(r.newFiles).toEqual([]);
    for (const secret of [wrong, real, Buffer.from(wrong).toString('base64'), encodeURIComponent(wrong)]) {
      expect(r.stdout).not.toContain(secret);
      expect(r.stderr).not.toContain(secret);
      for (const f of filesIn(e.dir)) expect(readFileSync(path.join(e.dir, f), 'utf8'), f).not.toContain(secret);
    }
  });

  it('a wrong HelloID API secret (401): exit 1, names HelloID and its URL, nothing written', async () => {
    const wrong = 'wrong-helloid-secret-4Rt7Yw';
    const r = await runTracked(e, ['plan'], { HELLOID_API_SECRET: wrong });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toMatch(/HelloID/);
    expect(r.stderr).toContain(e.emulator.url);
    expect(r.stderr).toMatch(/401|rejected|unauthori[sz]ed/i);
    expect(r.newFiles).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });

  it('zero shared mailboxes: exit 1, says so and names the filter, writes neither plan nor desired state', async () => {
    const cfg = writeConfig(e, 'zero.yaml', { mailboxFilter: "DisplayName -like 'Nothing*'" });
    const r = await runTracked(e, ['plan', '-c', cfg, '--detailed-exitcode', '--markdown', 'zero.md'], { GITHUB_STEP_SUMMARY: e.file('zero-summary.md') });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toMatch(/zero shared mailboxes/i);
    expect(r.stderr).toContain("DisplayName -like 'Nothing*'");
    expect(r.stderr).toContain('exchange.mailboxFilter');
    expect(r.newFiles).toEqual([]);
  });

  it('a --state path that cannot be written: exit 1 naming it, and no plan.yaml without its desired state', async () => {
    // The parent "directory" is a file.
    const r = await runTracked(e, ['plan', '-q', '--state', 'ownersync.yaml/desired-state.yaml', '-o', 'plan.yaml']);
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toContain('ownersync.yaml/desired-state.yaml: cannot be written');
    expect(r.newFiles).toEqual([]);
  });

  it('missing output directories are created', async () => {
    const r = await runTracked(e, ['plan', '-q', '-o', 'out/plan.yaml', '--state', 'state/desired-state.yaml', '--markdown', 'out/md/plan.md']);
    expect(r.code, show(r)).toBe(0);
    expect(r.newFiles).toEqual(['out/md/plan.md', 'out/plan.yaml', 'state/desired-state.yaml']);
  });
});

describe('plan and the removal safety limits (demo: 2 removals of 28 current members)', () => {
  it('maxRemovals 1: exit 3, names the limit, nothing written', async () => {
    const cfg = writeConfig(e, 'max1.yaml', { limits: { maxRemovals: 1 } });
    const r = await runTracked(e, ['plan', '-c', cfg, '--detailed-exitcode', '--markdown', 'max1.md'], { GITHUB_STEP_SUMMARY: e.file('max1-summary.md') });
    expect(r.code, show(r)).toBe(3);
    expect(r.stderr).toContain('sync.limits.maxRemovals (1)');
    expect(r.stderr).toContain('2 removals');
    expect(r.stderr).toContain('--override-limits');
    expect(r.stderr).toMatch(/nothing was written/i);
    // No plan, desired state or Markdown file; only the CI job summary says why.
    expect(r.newFiles).toEqual(['max1-summary.md']);
    expect(e.read('max1-summary.md')).toContain('ownersync plan refused by the safety limits');
    // The operator still sees what broke the limit.
    expect(r.stdout).toContain('- pieter.bakker@contoso.com');
    expect(r.stdout).not.toContain('Overrides recorded');
  });

  it('maxRemovals 1 with --override-limits: exit 0, the override is in plan.yaml, the text and the Markdown', async () => {
    const r = await runTracked(e, ['plan', '-c', 'max1.yaml', '--override-limits', '-o', 'override.yaml', '--state', 'override-state.yaml', '--markdown', 'override.md']);
    expect(r.code, show(r)).toBe(0);
    expect(r.newFiles).toEqual(['override-state.yaml', 'override.md', 'override.yaml']);
    const plan = parse(e.read('override.yaml')) as PlanFile;
    expect(plan.summary).toEqual({ add: 11, remove: 2, kept: 0 });
    expect(plan.overrides).toEqual([{ kind: 'limits', violations: [{ rule: 'maxRemovals', message: '2 removals exceed sync.limits.maxRemovals (1)' }] }]);
    expect(r.stdout).toContain('Overrides recorded in this plan:');
    expect(r.stdout).toContain('--override-limits: 2 removals exceed sync.limits.maxRemovals (1)');
    const md = e.read('override.md');
    expect(md).toContain('> [!WARNING]');
    expect(md).toContain('2 removals exceed sync.limits.maxRemovals (1)');
  });

  it('--override-limits with --detailed-exitcode exits 2; --json reports limitsExceeded', async () => {
    const r = await e.run(['plan', '-c', 'max1.yaml', '--override-limits', '--detailed-exitcode', '--json', '-o', 'override2.yaml', '--state', 'override2-state.yaml']);
    expect(r.code, show(r)).toBe(2);
    const out = JSON.parse(r.stdout) as { limitsExceeded: boolean; overrides: PlanFile['overrides'] };
    expect(out.limitsExceeded).toBe(true);
    expect(out.overrides[0]?.violations.map((v) => v.rule)).toEqual(['maxRemovals']);
  });

  it('maxRemovalPercent 5 (the demo removes 7.1 %): exit 3, names the limit and the numbers, nothing written', async () => {
    const cfg = writeConfig(e, 'pct5.yaml', { limits: { maxRemovalPercent: 5 } });
    const r = await runTracked(e, ['plan', '-c', cfg, '-o', 'pct5-plan.yaml', '--state', 'pct5-state.yaml']);
    expect(r.code, show(r)).toBe(3);
    expect(r.stderr).toContain('sync.limits.maxRemovalPercent (5%)');
    expect(r.stderr).toContain('7.1% of the 28 current members');
    expect(r.stderr).not.toContain('maxRemovals (');
    expect(r.newFiles).toEqual([]);
  });

  it('--json on a refusal: exit 3 and a parseable error on stdout', async () => {
    const r = await runTracked(e, ['plan', '-c', 'pct5.yaml', '--json', '-o', 'pct5-plan.yaml', '--state', 'pct5-state.yaml']);
    expect(r.code, show(r)).toBe(3);
    const out = JSON.parse(r.stdout) as { error: { message: string; exitCode: number } };
    expect(out.error.exitCode).toBe(3);
    expect(out.error.message).toContain('maxRemovalPercent');
    expect(r.newFiles).toEqual([]);
  });
});

/**
 * Two mailboxes: Kitchen (held by ann, in sync) and Garage_Oost, whose only holder
 * lost FullAccess, so its one member would be removed and the group left empty.
 */
function tinyTenant(): TenantFixture {
  return {
    formatVersion: 1,
    tenant: { id: '00000000-0000-4000-8000-0000000000a1', organization: 'tiny.onmicrosoft.com' },
    apps: [{ clientId: '00000000-0000-4000-8000-0000000000a2', secret: 'tiny-secret-not-real' }],
    exchange: {
      users: [{ upn: 'ann@tiny.example' }, { upn: 'ben@tiny.example' }],
      mailboxes: [
        { displayName: 'Kitchen', primarySmtpAddress: 'kitchen@tiny.example', permissions: [{ user: 'ann@tiny.example', accessRights: ['FullAccess'] }] },
        { displayName: 'Garage_Oost', primarySmtpAddress: 'garage_oost@tiny.example', permissions: [{ user: 'ben@tiny.example', accessRights: ['ReadPermission'] }] },
      ],
    },
    helloid: {
      apiKeys: [{ key: 'tiny-helloid-key', secret: 'tiny-helloid-secret-not-real' }],
      users: [{ userName: 'ann@tiny.example' }, { userName: 'ben@tiny.example' }],
      groups: [
        { name: 'Kitchen Resource Owners', members: ['ann@tiny.example'] },
        { name: 'Garage_Oost Resource Owners', members: ['ben@tiny.example'] },
      ],
    },
  };
}

describe('plan and allowEmptyingGroups (a tiny tenant where a group would be emptied)', () => {
  let tiny: Env;
  beforeAll(async () => {
    tiny = await setup({ fixture: tinyTenant() });
  });
  afterAll(async () => tiny?.stop());

  it('allowEmptyingGroups false: exit 3, names the group and the setting, nothing written', async () => {
    // 1 removal of 2 members is 50 %: raise the percentage so only the emptying rule applies.
    const cfg = writeConfig(tiny, 'strict.yaml', { limits: { maxRemovalPercent: 100, allowEmptyingGroups: false } });
    const r = await runTracked(tiny, ['plan', '-c', cfg, '--detailed-exitcode']);
    expect(r.code, show(r)).toBe(3);
    expect(r.stderr).toContain("group 'Garage_Oost Resource Owners'");
    expect(r.stderr).toContain('sync.limits.allowEmptyingGroups');
    expect(r.stderr).not.toMatch(/maxRemovals|maxRemovalPercent \(/);
    expect(r.newFiles).toEqual([]);
  });

  it('allowEmptyingGroups true: the plan empties the group (exit 2 with --detailed-exitcode)', async () => {
    const cfg = writeConfig(tiny, 'lenient.yaml', { limits: { maxRemovalPercent: 100, allowEmptyingGroups: true } });
    const r = await tiny.run(['plan', '-c', cfg, '--detailed-exitcode', '--markdown', 'plan.md']);
    expect(r.code, show(r)).toBe(2);
    const plan = parse(tiny.read('plan.yaml')) as PlanFile;
    expect(plan.overrides).toEqual([]);
    expect(plan.changes.map((c) => `${c.action}|${c.groupName}|${c.userName}`)).toEqual(['remove|Garage_Oost Resource Owners|ben@tiny.example']);
    expect(plan.groups).toHaveLength(1);
    expect(plan.groups[0]!.plannedMembers).toEqual([]);
    expect(r.stdout).toContain('1 → 0 members');
    // Names inside the HTML <summary> of the Markdown are HTML, not Markdown: no backslash escapes there.
    const md = tiny.read('plan.md');
    expect(md).toContain('<b>Garage_Oost Resource Owners</b>');
    expect(md).toContain('(mailbox garage_oost@tiny.example)');
  });
});
