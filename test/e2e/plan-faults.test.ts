/**
 * `ownersync plan` under hostile conditions, through the built CLI over HTTPS against
 * the emulator:
 *  - small server-side page caps, a seeded 429 storm, 503/500 bursts (rules that
 *    fire a few times on each service) and a low server concurrency limit must all
 *    give the same plan as a clean run (the plan body: not createdAt/expiresAt/digest);
 *  - one mailbox whose permission read fails for good (every attempt answered 500)
 *    still gives a plan (exit 2 with changes) with an 'incomplete-read' warning for
 *    it and no removal in its owner group, every other group as in the clean run;
 *  - likewise a nested Exchange group whose members cannot be read, and a HelloID
 *    owner group whose members cannot be read: a warning, no removal there.
 *
 * Faults are switched on one demo emulator between runs (plans only read, so its
 * state never changes). The page caps and the failing mailbox need emulators of their
 * own; their runs start in beforeAll and overlap the others (the failing read spends
 * most of its time in the client's retry backoff, as a 500 carries no Retry-After).
 */
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Faults } from '../../src/emulator/index.js';
import type { PlanFile } from '../../src/plan/index.js';
import { setup, show, type Env, type RunResult } from './harness.js';


/** The plan body that must not depend on faults or timing (not createdAt/expiresAt/digest). */
const bodyOf = (p: PlanFile) => ({ summary: p.summary, groups: p.groups, changes: p.changes, kept: p.kept, warnings: p.warnings, overrides: p.overrides });

/** Retry-After of the emulator's 429/503 answers: short, so storms cost little time. */
const FAST_RETRY = 0.05;

interface DesiredStateDoc {
  summary: Record<string, number>;
  mailboxes: Array<{ primarySmtpAddress: string; complete: boolean; holders: unknown[] }>;
  warnings: Array<{ code: string; mailbox?: string }>;
}

let e: Env; // demo tenant; faults change per run
let capped: Env; // exchange.maxPageSize 3, helloid.maxTake 5
let broken: Env; // Facilities' Get-MailboxPermission always answers 500
let cappedRun: Promise<RunResult>;
let brokenRun: Promise<RunResult>;
let clean: PlanFile;
let cleanState: string;

beforeAll(async () => {
  [e, capped, broken] = await Promise.all([
    setup(),
    setup({ options: { exchange: { maxPageSize: 3 }, helloid: { maxTake: 5 } } }),
    setup({ faults: { rules: [{ service: 'exchange', cmdlet: 'Get-MailboxPermission', identity: 'facilities@contoso.com', action: 'error', status: 500 }] } }),
  ]);
  brokenRun = broken.run(['plan', '--detailed-exitcode']);
  cappedRun = capped.run(['plan', '-q']);
  for (const p of [brokenRun, cappedRun]) p.catch(() => {});
  const r = await e.run(['plan', '-q', '-o', 'clean.yaml', '--state', 'clean-state.yaml']);
  expect(r.code, show(r)).toBe(0);
  clean = parse(e.read('clean.yaml')) as PlanFile;
  cleanState = e.read('clean-state.yaml');
  expect(clean.summary).toEqual({ add: 11, remove: 2, kept: 0 });
});
afterAll(async () => {
  await Promise.allSettled([brokenRun, cappedRun]);
  await Promise.all([e?.stop(), capped?.stop(), broken?.stop()]);
});

/** One plan run on `e` with these faults (reset afterwards). */
async function planWith(name: string, faults: Partial<Faults>): Promise<{ r: RunResult; plan: PlanFile | undefined; stats: ReturnType<Env['emulator']['stats']> }> {
  e.emulator.resetFaults();
  e.emulator.setFaults(faults);
  e.emulator.resetStats();
  try {
    const r = await e.run(['plan', '-q', '-o', `${name}.yaml`, '--state', `${name}-state.yaml`]);
    const plan = r.code === 0 ? (parse(e.read(`${name}.yaml`)) as PlanFile) : undefined;
    return { r, plan, stats: e.emulator.stats() };
  } finally {
    e.emulator.resetFaults();
  }
}

describe('plan under paging caps, throttling, server errors and a concurrency limit', () => {
  it('paging with caps of 3 (Exchange) and 5 (HelloID) gives the same plan as uncapped reads', async () => {
    const r = await cappedRun;
    expect(r.code, show(r)).toBe(0);
    const p = parse(capped.read('plan.yaml')) as PlanFile;
    expect(bodyOf(p)).toEqual(bodyOf(clean));
    // Byte-identical desired state too: nothing depends on page boundaries.
    expect(capped.read('desired-state.yaml')).toBe(cleanState);
    // The caps were real: the listings took many pages.
    const routes = capped.emulator.stats().routes;
    const requests = (key: string) => Object.entries(routes).filter(([k]) => k.includes(key)).reduce((n, [, c]) => n + c.requests, 0);
    expect(requests('InvokeCommand Get-Mailbox')).toBeGreaterThanOrEqual(7); // 20 mailboxes / 3
    expect(requests('InvokeCommand Get-User')).toBeGreaterThanOrEqual(20); // 60 users / 3
    expect(requests('helloid GET /api/v1/users')).toBeGreaterThanOrEqual(12); // 59 users / 5
    expect(requests('helloid GET /api/v1/groups')).toBeGreaterThanOrEqual(19 + 5); // 23 groups / 5, plus the member reads
  });

  it('a 429 storm on both services (30 % of requests, seeded) gives the same plan as a clean run', async () => {
    const { r, plan, stats } = await planWith('storm', {
      randomFailRate: 0.3,
      randomFailStatuses: [429],
      randomServices: ['exchange', 'helloid'],
      seed: 7,
      retryAfterSeconds: FAST_RETRY,
    });
    expect(r.code, show(r)).toBe(0);
    expect(bodyOf(plan!)).toEqual(bodyOf(clean));
    // Which requests draw a 429 depends on arrival order; HelloID (25+ requests) always gets some.
    expect(stats.services.exchange.status429 + stats.services.helloid.status429).toBeGreaterThanOrEqual(5);
    expect(stats.services.helloid.status429).toBeGreaterThan(0);
  });

  it('503/500 bursts on both services give the same plan as a clean run', async () => {
    // Bursts as rules (each fires `times` times, then the requests go through), so both
    // services and both statuses are hit on every run; 500 carries no Retry-After.
    const { r, plan, stats } = await planWith('bursts', {
      retryAfterSeconds: FAST_RETRY,
      rules: [
        { service: 'exchange', cmdlet: 'Get-Mailbox', action: 'error', status: 503, times: 3 },
        { service: 'exchange', path: '$batch', action: 'error', status: 500, times: 2 },
        { service: 'helloid', path: '/api/v1/users', action: 'error', status: 503, times: 3 },
        { service: 'helloid', path: '/api/v1/groups/', action: 'error', status: 500, times: 4 },
      ],
    });
    expect(r.code, show(r)).toBe(0);
    expect(bodyOf(plan!)).toEqual(bodyOf(clean));
    const statuses = (service: string) => stats.log.filter((l) => l.service === service && l.status >= 500).map((l) => l.status);
    expect(statuses('exchange').sort()).toEqual([500, 500, 503, 503, 503]);
    expect(statuses('helloid').sort()).toEqual([500, 500, 500, 500, 503, 503, 503]);
  });

  it('a server concurrency limit of 2 per service gives the same plan as a clean run', async () => {
    // A little latency so requests overlap and the limit actually bites.
    const { r, plan, stats } = await planWith('narrow', { concurrency: { exchange: 2, helloid: 2 }, latencyMs: 25, retryAfterSeconds: FAST_RETRY });
    expect(r.code, show(r)).toBe(0);
    expect(bodyOf(plan!)).toEqual(bodyOf(clean));
    expect(stats.services.exchange.maxInFlight).toBeLessThanOrEqual(2);
    expect(stats.services.helloid.maxInFlight).toBeLessThanOrEqual(2);
    expect(stats.totals.status429).toBeGreaterThan(0);
  });
});

describe("plan when one mailbox's permission read fails for good", () => {
  let r: RunResult;
  let plan: PlanFile;
  let state: DesiredStateDoc;

  beforeAll(async () => {
    r = await brokenRun;
    if (r.code === 0 || r.code === 2) {
      plan = parse(broken.read('plan.yaml')) as PlanFile;
      state = parse(broken.read('desired-state.yaml')) as DesiredStateDoc;
    }
  });

  it('still plans (exit 2 with changes), warning "incomplete-read" for that mailbox', () => {
    expect(r.code, show(r)).toBe(2);
    // The rule really fired, more than once (the client retried before giving up).
    expect(broken.emulator.stats().log.filter((l) => l.fault !== undefined).length).toBeGreaterThan(1);
    const incomplete = plan.warnings.filter((w) => w.code === 'incomplete-read');
    expect(incomplete.map((w) => w.mailbox)).toEqual(['facilities@contoso.com']);
    expect(r.stdout).toMatch(/incomplete-read .*facilities@contoso\.com/);
    // The desired state says so as well.
    expect(state.mailboxes.find((m) => m.primarySmtpAddress === 'facilities@contoso.com')?.complete).toBe(false);
    expect(state.summary.incompleteMailboxes).toBe(1);
    expect(state.warnings.map((w) => [w.code, w.mailbox])).toContainEqual(['incomplete-read', 'facilities@contoso.com']);
  });

  it('removes nobody from the Facilities group', () => {
    expect(clean.changes.some((c) => c.action === 'remove' && c.groupName === 'Facilities Resource Owners')).toBe(true);
    expect(plan.changes.filter((c) => c.groupName === 'Facilities Resource Owners')).toEqual([]);
    expect(plan.groups.map((g) => g.groupName)).not.toContain('Facilities Resource Owners');
    expect(plan.changes.filter((c) => c.action === 'remove').map((c) => `${c.groupName}|${c.userName}`)).toEqual(['Logistiek Resource Owners|jan.wouters@contoso.com']);
    // Its current members stay, and the plan says why.
    const kept = plan.kept.filter((k) => k.groupName === 'Facilities Resource Owners');
    expect(kept.map((k) => k.userName).sort()).toEqual(['pieter.bakker@contoso.com', 'ursula.willems@contoso.com']);
    for (const k of kept) expect(k.reason).toBe('removals held: holders of facilities@contoso.com not fully known: facilities@contoso.com (FullAccess permissions could not be read)');
  });

  it('leaves every other group exactly as in the clean run', () => {
    const others = (p: PlanFile) => ({
      changes: p.changes.filter((c) => c.mailbox !== 'facilities@contoso.com'),
      groups: p.groups.filter((g) => g.mailbox !== 'facilities@contoso.com'),
      warnings: p.warnings.filter((w) => w.mailbox !== 'facilities@contoso.com'),
    });
    expect(others(plan)).toEqual(others(clean));
    // The other 19 mailboxes' holders are all there in the desired state.
    const rest = (s: DesiredStateDoc) => s.mailboxes.filter((m) => m.primarySmtpAddress !== 'facilities@contoso.com');
    expect(rest(state)).toEqual(rest(parse(cleanState) as DesiredStateDoc));
  });
});

describe('plan when a group read fails for good', () => {
  it('an Exchange group trustee whose members cannot be read: warning, mailbox incomplete, nobody removed there', async () => {
    // HR is held through SG-HR-Team, which nests SG-HR-Managers (julia.bos, koen.vos).
    const { r, plan } = await planWith('nested-broken', {
      retryAfterSeconds: FAST_RETRY,
      rules: [{ service: 'exchange', cmdlet: 'Get-DistributionGroupMember', identity: 'SG-HR-Managers', action: 'error', status: 503 }],
    });
    expect(r.code, show(r)).toBe(0);
    expect(plan!.warnings.filter((w) => w.code === 'group-read-failed').map((w) => w.subject)).toEqual(['SG-HR-Managers']);
    const state = parse(e.read('nested-broken-state.yaml')) as DesiredStateDoc;
    expect(state.mailboxes.find((m) => m.primarySmtpAddress === 'hr@contoso.com')?.complete).toBe(false);
    // ivo.deboer (directly in SG-HR-Team) is still added; julia.bos, now of unknown standing, is kept.
    const hr = (p: PlanFile) => p.changes.filter((c) => c.groupName === 'HR Resource Owners').map((c) => `${c.action}|${c.userName}`);
    expect(hr(plan!)).toEqual(['add|ivo.deboer@contoso.com']);
    expect(plan!.kept.map((k) => `${k.groupName}|${k.userName}`)).toEqual(['HR Resource Owners|julia.bos@contoso.com']);
    const notHr = (p: PlanFile) => p.changes.filter((c) => c.groupName !== 'HR Resource Owners');
    expect(notHr(plan!)).toEqual(notHr(clean));
  });

  it('a HelloID owner group whose members cannot be read: warning, no change planned there, other groups unaffected', async () => {
    const logistiek = e.emulator.state.helloid.groups.find((g) => g.name === 'Logistiek Resource Owners')!;
    const { r, plan } = await planWith('members-broken', {
      retryAfterSeconds: FAST_RETRY,
      rules: [{ service: 'helloid', method: 'GET', path: `/api/v1/groups/${logistiek.groupGuid}`, action: 'error', status: 503 }],
    });
    expect(r.code, show(r)).toBe(0);
    const w = plan!.warnings.filter((x) => x.subject === 'Logistiek Resource Owners');
    expect(w.map((x) => x.code)).toEqual(['incomplete-read']);
    expect(w[0]!.message).toMatch(/could not be read.*no changes are planned for it/);
    // Its current members are unknown, so nothing is planned for it at all: apply could
    // not verify it against an observed set.
    expect(plan!.changes.filter((c) => c.groupName === 'Logistiek Resource Owners')).toEqual([]);
    const notLogistiek = (p: PlanFile) => p.changes.filter((c) => c.groupName !== 'Logistiek Resource Owners');
    expect(notLogistiek(plan!)).toEqual(notLogistiek(clean));
  });
});
