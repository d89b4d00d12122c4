/**
 * `ownersync plan` end to end on the demo tenant, through the built CLI over HTTPS
 * against the emulator: the documented outcome (11 adds + 2 removes, or 2 kept with
 * removeMembers false), warnings, the accent fallback, nested-group provenance, the
 * --json contract, --detailed-exitcode, the Markdown/step-summary outputs, `show`, the
 * golden text and Markdown renderings, and determinism across runs.
 *
 * Plans never write to HelloID, so one emulator serves the whole file; each run gets
 * its own config (-c), plan (-o) and state (--state) paths so runs can overlap.
 * Golden files: test/e2e/golden/{plan.txt,plan.md,show.txt}; `UPDATE_GOLDEN=1` rewrites them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeDigest, type PlanFile } from '../../src/plan/index.js';
import { configYaml, REPO, setup, show, type Env, type RunResult } from './harness.js';

const GOLDEN_DIR = path.join(REPO, 'test/e2e/golden');
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

function planOutputValidator() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(path.join(REPO, 'schemas/output/plan-output.schema.json'), 'utf8')) as object);
}

/** Run output for assertion messages. */

/** "add|Group|user" keys, sorted: the (action, group, user) set of a plan. */
const changeKeys = (changes: Array<{ action: string; groupName: string; userName: string }>) =>
  changes.map((c) => `${c.action}|${c.groupName}|${c.userName}`).sort();

/** The parts of a plan that must not depend on when it was made. */
const planBodyOf = (p: PlanFile) => ({ summary: p.summary, groups: p.groups, changes: p.changes, kept: p.kept, warnings: p.warnings, overrides: p.overrides, target: p.target, configDigest: p.configDigest });

const EXPECTED_ADDS = [
  // Through GG-Archief-Beheer, a security group that is not mail-enabled (members by name).
  'add|Archief Resource Owners|vincent.leclercq@contoso.com',
  'add|Cafe Bestellingen Resource Owners|carmen.lopez@contoso.com',
  'add|Cafe Bestellingen Resource Owners|renee.dubois@contoso.com',
  'add|Events Resource Owners|anna.jansen@contoso.com',
  'add|Finance Resource Owners|bram.devries@contoso.com',
  'add|HR Resource Owners|ivo.deboer@contoso.com',
  'add|HR Resource Owners|koen.vos@contoso.com',
  'add|Inkoop Resource Owners|hugo.claes@contoso.com',
  'add|Legal Resource Owners|sanne.jacobs@contoso.com',
  'add|Werving & Selectie Resource Owners|rik.vandamme@contoso.com',
  'add|Werving & Selectie Resource Owners|sofie.aerts@contoso.com',
];
const EXPECTED_REMOVES = ['remove|Facilities Resource Owners|pieter.bakker@contoso.com', 'remove|Logistiek Resource Owners|jan.wouters@contoso.com'];

describe('plan on the demo tenant', () => {
  let e: Env;
  let a: RunResult; // plan --detailed-exitcode --markdown plan.md, with $GITHUB_STEP_SUMMARY
  let planA: PlanFile;
  let stateA: string;
  let b: RunResult; // plan --json, own plan/state paths
  let c: RunResult; // plan again, same --state path as a
  let kept: RunResult; // removeMembers: false
  let noChange: RunResult; // a filter whose mailboxes are in sync
  let showText: RunResult;
  let showMd: RunResult;
  let showJson: RunResult;
  const summaryPrefix = '## Earlier step\n\nsomething else wrote here first\n';

  beforeAll(async () => {
    e = await setup();
    writeFileSync(e.file('keep.yaml'), configYaml(e.emulator, { removeMembers: false }));
    writeFileSync(e.file('nochange.yaml'), configYaml(e.emulator, { mailboxFilter: "DisplayName -like 'S*'" }));
    writeFileSync(e.file('step-summary.md'), summaryPrefix);

    a = await e.run(['plan', '--detailed-exitcode', '--markdown', 'plan.md'], { env: { GITHUB_STEP_SUMMARY: e.file('step-summary.md') } });
    expect(a.code, show(a)).toBe(2);
    planA = parse(e.read('plan.yaml')) as PlanFile;
    stateA = e.read('desired-state.yaml');

    // Independent of each other (own output paths; HelloID is only read): run them side by side.
    [b, c, kept, noChange, showText, showMd, showJson] = await Promise.all([
      e.run(['plan', '--json', '-o', 'plan-b.yaml', '--state', 'state-b.yaml']),
      e.run(['plan', '-o', 'plan-c.yaml']),
      e.run(['plan', '-c', 'keep.yaml', '-o', 'plan-keep.yaml', '--state', 'state-keep.yaml', '--detailed-exitcode']),
      e.run(['plan', '-c', 'nochange.yaml', '-o', 'plan-nochange.yaml', '--state', 'state-nochange.yaml', '--detailed-exitcode']),
      e.run(['show', 'plan.yaml']),
      e.run(['show', 'plan.yaml', '--markdown']),
      e.run(['show', 'plan.yaml', '--json']),
    ]);
  });
  afterAll(async () => e?.stop());

  it('plan.yaml holds exactly the documented 11 adds and 2 removes', () => {
    expect(changeKeys(planA.changes)).toEqual([...EXPECTED_ADDS, ...EXPECTED_REMOVES].sort());
    expect(planA.summary).toEqual({ add: 11, remove: 2, kept: 0 });
    expect(planA.kept).toEqual([]);
    expect(planA.overrides).toEqual([]);
    expect(planA.groups.map((g) => g.groupName)).toEqual([
      'Archief Resource Owners',
      'Cafe Bestellingen Resource Owners',
      'Events Resource Owners',
      'Facilities Resource Owners',
      'Finance Resource Owners',
      'HR Resource Owners',
      'Inkoop Resource Owners',
      'Legal Resource Owners',
      'Logistiek Resource Owners',
      'Werving & Selectie Resource Owners',
    ]);
    expect(planA.target).toMatchObject({ helloidBaseUrl: e.emulator.url, exchangeTenantId: e.emulator.tenantId });
    expect(a.stdout).toContain('Plan: 11 to add, 2 to remove, 0 kept.');
  });

  it('changes carry the real HelloID guids: the Local "Legal Resource Owners", never the AD one', () => {
    const groups = e.emulator.state.helloid.groups.filter((g) => g.name === 'Legal Resource Owners');
    const local = groups.find((g) => g.source === 'Local')!;
    const ad = groups.find((g) => g.source === 'AD')!;
    const legal = planA.changes.filter((ch) => ch.groupName === 'Legal Resource Owners');
    expect(legal.map((ch) => ch.groupGuid.toLowerCase())).toEqual([local.groupGuid.toLowerCase()]);
    expect(JSON.stringify(planA)).not.toContain(ad.groupGuid);
    for (const ch of planA.changes) {
      const user = e.emulator.state.helloid.users.find((u) => u.userGUID.toLowerCase() === ch.userGuid.toLowerCase());
      expect(user?.userName.toLowerCase(), `${ch.userName}`).toBe(ch.userName.toLowerCase());
    }
  });

  it('warns about the holder without a HelloID user and the mailbox without an owner group', () => {
    expect(planA.warnings.map((w) => [w.code, w.mailbox, w.subject])).toEqual([
      ['no-helloid-user', 'support@contoso.com', 'marco.kramer.extern@contoso.com'],
      ['no-owner-group', 'marketing@contoso.com', 'Marketing Resource Owners'],
    ]);
    expect(a.stdout).toMatch(/Warnings \(2\):/);
    expect(a.stdout).toMatch(/no-helloid-user .*marco\.kramer\.extern@contoso\.com/);
    expect(a.stdout).toMatch(/no-owner-group .*Marketing Resource Owners/);
  });

  it('matches the accented mailbox "Café Bestellingen" to "Cafe Bestellingen Resource Owners"', () => {
    const cafe = planA.groups.find((g) => g.mailbox === 'cafe.bestellingen@contoso.com')!;
    const expectedGuid = e.emulator.state.helloid.groups.find((g) => g.name === 'Cafe Bestellingen Resource Owners')!.groupGuid;
    expect(cafe.groupName).toBe('Cafe Bestellingen Resource Owners');
    expect(cafe.groupGuid.toLowerCase()).toBe(expectedGuid.toLowerCase());
    expect(cafe.observedMembers).toEqual([]);
    expect(cafe.plannedMembers).toHaveLength(2);
    const state = parse(stateA) as { mailboxes: Array<{ displayName: string; ownerGroup: string }> };
    expect(state.mailboxes.find((m) => m.displayName === 'Café Bestellingen')?.ownerGroup).toBe('Café Bestellingen Resource Owners');
  });

  it('desired-state.yaml records nested-group provenance and only Exchange-side facts', () => {
    const state = parse(stateA) as {
      formatVersion: number;
      source: Record<string, unknown>;
      summary: Record<string, number>;
      mailboxes: Array<{ displayName: string; primarySmtpAddress: string; complete: boolean; holders: Array<{ upn: string; direct?: boolean; via?: string[] }> }>;
      warnings: unknown[];
    };
    expect(state.formatVersion).toBe(1);
    expect(state.source).toMatchObject({ exchangeTenantId: e.emulator.tenantId, mailboxFilter: null, expandGroups: true, ownerGroupName: '<DisplayName> Resource Owners' });
    // 20 shared mailboxes; the room mailbox is out of scope.
    expect(state.mailboxes).toHaveLength(20);
    expect(state.mailboxes.map((m) => m.displayName)).not.toContain('Vergaderzaal Amsterdam');
    expect(state.mailboxes.every((m) => m.complete)).toBe(true);
    const hr = state.mailboxes.find((m) => m.displayName === 'HR')!;
    expect(hr.holders).toEqual([
      { upn: 'hanna.mulder@contoso.com', via: ['SG-HR-Team'] },
      { upn: 'ivo.deboer@contoso.com', via: ['SG-HR-Team'] },
      { upn: 'julia.bos@contoso.com', via: ['SG-HR-Team > SG-HR-Managers'] },
      { upn: 'koen.vos@contoso.com', via: ['SG-HR-Team > SG-HR-Managers'] },
    ]);
    const comms = state.mailboxes.find((m) => m.displayName === 'Communicatie')!;
    expect(comms.holders.map((h) => [h.upn, h.via])).toEqual([
      ['lars.lambrecht@contoso.com', ['SG-Communicatie']],
      ['mila.goossens@contoso.com', ['SG-Communicatie']],
    ]);
    // Deny, inherited, ReadPermission-only, SID and system rows are not holders.
    const holders = (name: string) => state.mailboxes.find((m) => m.displayName === name)!.holders.map((h) => h.upn);
    expect(holders('Projects')).toEqual(['vera.vanleeuwen@contoso.com']);
    expect(holders('IT Helpdesk')).toEqual(['xander.brouwer@contoso.com']);
    expect(holders('Reception')).toEqual(['amir.haddad@contoso.com']);
    expect(holders('Sales')).toEqual(['lisa.dekker@contoso.com', 'milan.hendriks@contoso.com']);
    // The HR changes say how the access is held.
    const reason = (user: string) => planA.changes.find((ch) => ch.userName === user)!.reason;
    expect(reason('ivo.deboer@contoso.com')).toContain('SG-HR-Team');
    expect(reason('koen.vos@contoso.com')).toContain('SG-HR-Team > SG-HR-Managers');
    // Never anything from HelloID: no guids of HelloID objects, no HelloID URL.
    expect(stateA).not.toContain(e.emulator.url);
    for (const g of e.emulator.state.helloid.groups) expect(stateA).not.toContain(g.groupGuid);
  });

  it('--json output is schema-valid (draft-07) and says the same as plan.yaml', () => {
    expect(b.code, show(b)).toBe(0);
    const out = JSON.parse(b.stdout) as Record<string, unknown> & { changes: PlanFile['changes']; digest: string };
    const validate = planOutputValidator();
    expect(validate(out), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const planB = parse(e.read('plan-b.yaml')) as PlanFile;
    expect(out.digest).toBe(planB.digest);
    expect(out).toMatchObject({ formatVersion: 1, summary: { add: 11, remove: 2, kept: 0 }, signed: false, planPath: 'plan-b.yaml', statePath: 'state-b.yaml', limitsExceeded: false });
    expect(changeKeys(out.changes)).toEqual([...EXPECTED_ADDS, ...EXPECTED_REMOVES].sort());
    expect(out.changes).toEqual(planA.changes);
    expect(out.warnings).toEqual(planA.warnings);
    // --json keeps stdout parseable: no progress or prose mixed in.
    expect(b.stdout.trim().startsWith('{')).toBe(true);
  });

  it('removeMembers: false reports the 2 stale members as kept, removes nobody, and exits 2 with --detailed-exitcode', () => {
    expect(kept.code, show(kept)).toBe(2);
    const p = parse(e.read('plan-keep.yaml')) as PlanFile;
    expect(p.summary).toEqual({ add: 11, remove: 0, kept: 2 });
    expect(changeKeys(p.changes)).toEqual(EXPECTED_ADDS);
    expect(p.kept.map((k) => `${k.groupName}|${k.userName}`)).toEqual(['Facilities Resource Owners|pieter.bakker@contoso.com', 'Logistiek Resource Owners|jan.wouters@contoso.com']);
    expect(kept.stdout).toContain('Plan: 11 to add, 0 to remove, 2 kept.');
    expect(kept.stdout).toMatch(/Kept \(2\)/);
    expect(kept.stdout).toContain('Facilities Resource Owners: 1 kept');
    expect(kept.stdout).toContain('Logistiek Resource Owners: 1 kept');
    // Groups without a change are not "affected".
    expect(p.groups.map((g) => g.groupName)).not.toContain('Facilities Resource Owners');
  });

  it('--detailed-exitcode exits 0 when there is nothing to change', () => {
    expect(noChange.code, show(noChange)).toBe(0);
    expect(noChange.stdout).toContain('No changes.');
    expect(noChange.stdout).toContain('Plan: 0 to add, 0 to remove, 0 kept.');
    const p = parse(e.read('plan-nochange.yaml')) as PlanFile;
    expect(p.changes).toEqual([]);
    expect(p.groups).toEqual([]);
    const state = parse(e.read('state-nochange.yaml')) as { source: { mailboxFilter: string }; mailboxes: Array<{ displayName: string }> };
    expect(state.source.mailboxFilter).toBe("DisplayName -like 'S*'");
    expect(state.mailboxes.map((m) => m.displayName)).toEqual(['Salarisadministratie', 'Sales', 'Support']);
  });

  it('writes the Markdown summary to --markdown FILE and appends it to $GITHUB_STEP_SUMMARY', () => {
    const md = e.read('plan.md');
    expect(md).toContain('## ownersync plan');
    expect(md).toContain('**11 to add, 2 to remove, 0 kept**');
    expect(md).toContain(planA.digest);
    // Appended once, after what was there: the other runs had no $GITHUB_STEP_SUMMARY.
    expect(e.read('step-summary.md')).toBe(`${summaryPrefix}${md}\n`);
  });

  it('two runs against the same state: byte-identical desired state, identical plan body, digest differs only through the timestamps', () => {
    expect(c.code, show(c)).toBe(0);
    const planB = parse(e.read('plan-b.yaml')) as PlanFile;
    const planC = parse(e.read('plan-c.yaml')) as PlanFile;
    // c re-read desired-state.yaml written by a and found nothing new in Exchange.
    expect(e.read('desired-state.yaml')).toBe(stateA);
    expect(e.read('state-b.yaml')).toBe(stateA);
    expect(planC.exchangeChanges).toBeUndefined();
    expect(c.stdout).not.toContain('Changes in Exchange since the previous desired state');
    for (const other of [planB, planC]) {
      expect(planBodyOf(other)).toEqual(planBodyOf(planA));
      expect(other.digest).not.toBe(planA.digest);
      expect(other.createdAt).not.toBe(planA.createdAt);
      // Put a's timestamps in and the digest is a's: nothing else differs.
      expect(computeDigest({ ...other, createdAt: planA.createdAt, expiresAt: planA.expiresAt })).toBe(planA.digest);
      expect(computeDigest(other)).toBe(other.digest);
    }
  });

  it('show renders the plan as text, Markdown (same as --markdown) and schema-valid JSON', () => {
    expect(showText.code, show(showText)).toBe(0);
    const rendered = a.stdout.slice(0, a.stdout.indexOf('Plan: 11 to add, 2 to remove, 0 kept.'));
    expect(showText.stdout.startsWith(rendered)).toBe(true);
    expect(showText.stdout).toContain(`plan.yaml: ${planA.digest} · intact · unsigned · not approved · expires ${planA.expiresAt}`);

    expect(showMd.code, show(showMd)).toBe(0);
    expect(showMd.stdout).toBe(e.read('plan.md'));

    expect(showJson.code, show(showJson)).toBe(0);
    const out = JSON.parse(showJson.stdout) as Record<string, unknown>;
    const validate = planOutputValidator();
    expect(validate(out), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(out).toMatchObject({ digest: planA.digest, createdAt: planA.createdAt, planPath: 'plan.yaml', signed: false, approvals: [] });
    expect(out.changes).toEqual(planA.changes);
  });

  it('text and Markdown renderings match the golden files', () => {
    // Only the emulator's URL, the timestamps and the digest vary between runs.
    const normalise = (s: string) =>
      s
        .split(e.emulator.url)
        .join('<EMULATOR_URL>')
        .split(planA.createdAt)
        .join('<CREATED_AT>')
        .split(planA.expiresAt)
        .join('<EXPIRES_AT>')
        .split(planA.digest)
        .join('sha256:<DIGEST>');
    const outputs: Record<string, string> = {
      'plan.txt': normalise(a.stdout),
      'plan.md': normalise(e.read('plan.md')),
      'show.txt': normalise(showText.stdout),
    };
    for (const [name, text] of Object.entries(outputs)) {
      expect(text, name).not.toMatch(/127\.0\.0\.1|sha256:[0-9a-f]{64}|\d{4}-\d\d-\d\dT\d\d:\d\d/);
      const file = path.join(GOLDEN_DIR, name);
      if (UPDATE_GOLDEN) {
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(file, text);
        continue;
      }
      expect(existsSync(file), `${file} is missing: run UPDATE_GOLDEN=1 npx vitest run test/e2e/plan-demo`).toBe(true);
      expect(text, `${name} differs from the golden file (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(file, 'utf8'));
    }
  });

  it('an unknown flag is a usage error: exit 64', async () => {
    const r = await e.run(['plan', '--no-such-flag']);
    expect(r.code, show(r)).toBe(64);
    expect(r.stderr).toContain('--no-such-flag');
  });
});
