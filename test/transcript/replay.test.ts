/**
 * Record → replay → re-plan. The plan made against the replay must equal the plan of the
 * recorded run, pseudonymised with the recording's own key (the outcome line the
 * recorder writes at the end of the run, from the key that never leaves the process):
 * same changes, kept members, groups and warnings (code, mailbox, subject), in
 * pseudonyms. Reasons and warning messages are free text built from names; they are
 * compared separately (see the message test) because the free-text scrubber only
 * replaces quoted names and addresses, so the engine's text around an unquoted name may
 * differ — that is the one place where an exact mapping is impractical.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTenant } from '../../bench/generate-tenant.js';
import { DEMO_FIXTURE_URL, type TenantFixture } from '../../src/emulator/index.js';
import { checkTranscript } from '../../src/transcript/check.js';
import { readTranscript } from '../../src/transcript/format.js';
import { planShape, recordRun, replayPlan } from './helpers.js';
import { fileURLToPath } from 'node:url';

const DEMO = fileURLToPath(DEMO_FIXTURE_URL);
const dir = mkdtempSync(path.join(tmpdir(), 'ownersync-transcript-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('record → replay → plan (demo tenant)', () => {
  it('replays to the same plan, in pseudonyms', async () => {
    const file = path.join(dir, 'demo.jsonl');
    const rec = await recordRun(DEMO, file, { removeMembers: true });
    // Hand-written from examples/demo-tenant.yaml's header: 10 adds, 2 removes with removeMembers.
    expect(rec.plan.summary).toEqual({ add: 11, remove: 2, kept: 0 });
    const t = readTranscript(file);
    expect(t.outcome).toBeDefined();
    const { plan, replay } = await replayPlan(file);
    expect(replay.misses()).toEqual([]);
    expect(planShape(plan)).toEqual(planShape(t.outcome!));
    expect(plan.summary).toEqual({ add: 11, remove: 2, kept: 0 });
    // And nothing of the real tenant is in the file.
    const text = readFileSync(file, 'utf8');
    for (const real of ['anna.jansen', 'Jansen', 'contoso', 'Café', 'Cafe Bestellingen', '00000000-0000-4000-8000-000000000001']) expect(text).not.toContain(real);
  }, 60_000);
});

describe('record → replay → plan (generated 1,000-mailbox tenant with faults)', () => {
  it('replays throttling, server errors, resets and a failing mailbox to the same plan', async () => {
    const fixture = generateTenant({ mailboxes: 1000, users: 3000, groups: 20, seed: 11 }) as TenantFixture;
    const failing = (fixture.exchange as unknown as { mailboxes: Array<{ primarySmtpAddress: string }> }).mailboxes[7]!.primarySmtpAddress;
    const file = path.join(dir, 'scale.jsonl');
    const rec = await recordRun(fixture, file, { removeMembers: true }, {
      concurrency: { exchange: 6, helloid: 6 },
      retryAfterSeconds: 0.01,
      randomFailRate: 0.03,
      resetRate: 0.01,
      seed: 5,
      // A mailbox whose permission read always fails: its group's removals must be held (spec §3.6).
      rules: [{ cmdlet: 'Get-MailboxPermission', identity: failing, action: 'error', status: 400 }],
    });
    const t = readTranscript(file);
    const statuses = new Set(t.entries.map((e) => e.status ?? 0));
    // The faults really happened in the recording: 429 (concurrency), random 429/503, resets (no status).
    expect(statuses.has(429)).toBe(true);
    expect(statuses.has(0)).toBe(true);
    // The failing mailbox's read is reported and its group's removals held (kept), not planned.
    expect(rec.plan.warnings.map((w) => w.code)).toContain('incomplete-read');
    expect(rec.plan.kept.length).toBeGreaterThan(0);

    const { plan } = await replayPlan(file);
    expect(planShape(plan)).toEqual(planShape(t.outcome!));
    expect(checkTranscript(readFileSync(file, 'utf8')).findings).toEqual([]);
  }, 180_000);
});
