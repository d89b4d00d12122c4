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
import { DEMO_FIXTURE_URL } from '../../src/emulator/index.js';
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
    expect(rec.plan.summary).toEqual({ add: 10, remove: 2, kept: 0 });
    const t = readTranscript(file);
    expect(t.outcome).toBeDefined();
    const { plan, replay } = await replayPlan(file);
    expect(replay.misses()).toEqual([]);
    expect(planShape(plan)).toEqual(planShape(t.outcome!));
    expect(plan.summary).toEqual({ add: 10, remove: 2, kept: 0 });
    // And nothing of the real tenant is in the file.
    const text = readFileSync(file, 'utf8');
    for (const real of ['anna.jansen', 'Jansen', 'contoso', 'Café', 'Cafe Bestellingen', '00000000-0000-4000-8000-000000000001']) expect(text).not.toContain(real);
  }, 60_000);
});
