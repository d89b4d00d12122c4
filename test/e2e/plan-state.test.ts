/**
 * `ownersync plan` across runs and at scale, through the built CLI over HTTPS against
 * the emulator:
 *  - a previous desired-state.yaml at the --state path is diffed against: after an
 *    out-of-band change in Exchange, plan.yaml carries `exchangeChanges` (a unified
 *    diff with the new and the lost holder) and the text and Markdown show it;
 *  - on a big generated tenant (1,500 mailboxes, many changes) the Markdown summary
 *    stays under GitHub's comment limit, says it was truncated, and is appended to
 *    $GITHUB_STEP_SUMMARY as well as written to --markdown FILE.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTenant } from '../../bench/generate-tenant.js';
import type { PlanFile } from '../../src/plan/index.js';
import { setup, show, type Env, type RunResult } from './harness.js';


describe('plan against a previous desired state after Exchange changed out of band', () => {
  const STATE = 'state/desired-state.yaml';
  let e: Env;
  let first: RunResult;

  beforeAll(async () => {
    e = await setup();
    // The state lives in a directory of its own, which plan creates.
    first = await e.run(['plan', '-q', '--state', STATE, '-o', 'plan-1.yaml']);
  });
  afterAll(async () => e?.stop());

  it('records the new and the lost holder in exchangeChanges and shows them', async () => {
    expect(first.code, show(first)).toBe(0);
    const before = e.read(STATE);
    expect((parse(e.read('plan-1.yaml')) as PlanFile).exchangeChanges).toBeUndefined();

    // Out of band: pieter.bakker gets FullAccess on Facilities (so he is no longer a
    // stale member there); kim.nguyen loses it on Salarisadministratie.
    const ex = e.emulator.state.exchange;
    ex.mailboxIndex.get('facilities@contoso.com')!.permissions.push({ user: 'pieter.bakker@contoso.com', accessRights: ['FullAccess'], isInherited: false, deny: false, inheritanceType: 'All' });
    const salaris = ex.mailboxIndex.get('salarisadministratie@contoso.com')!;
    salaris.permissions = salaris.permissions.filter((p) => p.user !== 'kim.nguyen@contoso.com');

    const second = await e.run(['plan', '--state', STATE, '-o', 'plan-2.yaml', '--markdown', 'plan-2.md']);
    expect(second.code, show(second)).toBe(0);
    const plan = parse(e.read('plan-2.yaml')) as PlanFile;

    const diff = plan.exchangeChanges!;
    expect(diff).toBeDefined();
    expect(diff).toContain('--- desired-state.yaml (previous)');
    expect(diff).toContain('+++ desired-state.yaml (now)');
    expect(diff).toMatch(/^@@ /m);
    expect(diff).toMatch(/^\+\s+- upn: pieter\.bakker@contoso\.com$/m);
    expect(diff).toMatch(/^-\s+- upn: kim\.nguyen@contoso\.com$/m);
    // Only those two holders changed.
    const changed = diff.split('\n').filter((l) => /^[+-]\s+- upn:/.test(l));
    expect(changed).toHaveLength(2);

    // The new desired state replaced the old one and is the "now" side.
    const now = e.read(STATE);
    expect(now).not.toBe(before);
    expect(now).toContain('pieter.bakker@contoso.com');

    // The effect beside the cause: pieter stays, kim goes.
    const keys = plan.changes.map((c) => `${c.action}|${c.groupName}|${c.userName}`);
    expect(keys).not.toContain('remove|Facilities Resource Owners|pieter.bakker@contoso.com');
    expect(keys).toContain('remove|Salarisadministratie Resource Owners|kim.nguyen@contoso.com');
    expect(plan.summary).toEqual({ add: 11, remove: 2, kept: 0 });

    expect(second.stdout).toContain('Changes in Exchange since the previous desired state:');
    expect(second.stdout).toMatch(/^\+\s+- upn: pieter\.bakker@contoso\.com$/m);
    expect(e.read('plan-2.md')).toContain('Changes in Exchange since the previous desired state');
    expect(e.read('plan-2.md')).toMatch(/^\+\s+- upn: pieter\.bakker@contoso\.com$/m);
  });
});

describe('plan on a big tenant: the Markdown summary stays within a PR comment', () => {
  let e: Env;
  let r: RunResult;
  const prefix = '## Earlier step\n';

  beforeAll(async () => {
    const fixture = generateTenant({ mailboxes: 1500, users: 3000, seed: 3 });
    e = await setup({ fixture, sync: { limits: { maxRemovals: 10_000, maxRemovalPercent: 100, allowEmptyingGroups: true } } });
    writeFileSync(e.file('summary.md'), prefix);
    r = await e.run(['plan', '-q', '--markdown', 'plan.md'], { env: { GITHUB_STEP_SUMMARY: e.file('summary.md') }, timeoutMs: 120_000 });
  });
  afterAll(async () => e?.stop());

  it('writes a truncated Markdown summary under 65,000 characters, also to $GITHUB_STEP_SUMMARY', () => {
    expect(r.code, show(r)).toBe(0);
    const plan = parse(e.read('plan.yaml')) as PlanFile;
    expect(plan.changes.length).toBeGreaterThan(1000);
    const md = readFileSync(e.file('plan.md'), 'utf8');
    expect(md.length).toBeLessThan(65_000);
    expect(md.length).toBeGreaterThan(50_000);
    expect(md).toContain(`**${plan.summary.add} to add, ${plan.summary.remove} to remove, ${plan.summary.kept} kept**`);
    expect(md).toMatch(/> Truncated: \d+ more section\(s\) not shown \(this comment is limited to 65,000 characters\)\. See the plan\.yaml artifact for the full plan\./);
    // Whole sections only: every <details> that was opened is closed, and code fences pair up.
    expect(md.split(/<details[ >]/).length).toBe(md.split('</details>').length);
    expect((md.match(/^```/gm) ?? []).length % 2).toBe(0);
    expect(e.read('summary.md')).toBe(`${prefix}${md}\n`);
  });
});
