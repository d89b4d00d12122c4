/**
 * Issue 17 story 1, drift on resume, exactly, through the built CLI against the
 * emulator: a plan removes c from Alpha and adds f to Beta; the Beta write fails for
 * good (exit 4), so the journal records c's removal as done and f's add as failed; an
 * administrator re-adds c to Alpha. The re-run must not remove c again on the strength
 * of the old journal: HelloID moved, the reviewed plan no longer describes it, so
 * apply refuses (exit 3) naming the group and the user, and writes nothing — and so
 * does `apply --dry-run`.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helloidWrites, REPO, setup, type Env } from './harness.js';
import { makePlan, readJournalLines, show, snapshot, type PlanDoc } from './apply-helpers.js';

const FIXTURE = path.join(REPO, 'test/e2e/fixtures/alpha-beta.yaml');

describe('resume after drift (issue 17 story 1)', () => {
  let e: Env;
  let plan: PlanDoc;

  beforeAll(async () => {
    e = await setup({ fixture: FIXTURE, sync: { removeMembers: true } });
    plan = await makePlan(e);
    const ok = await e.run(['approve', 'plan.yaml', '--by', 'Reviewer']);
    expect(ok.code, show(ok)).toBe(0);
  });
  afterAll(async () => e?.stop());

  it('the re-run refuses with exit 3 and zero writes after c is re-added to Alpha', async () => {
    const h = e.emulator.state.helloid;
    const user = (name: string): string => h.users.find((u) => u.userName === name)!.userGUID;
    const group = (name: string): string => h.groups.find((g) => g.name === name)!.groupGuid;
    const [alpha, beta, c, f] = [group('Alpha Resource Owners'), group('Beta Resource Owners'), user('c@alphabeta.com'), user('f@alphabeta.com')];
    // The plan is exactly the story.
    expect(plan.changes.map((ch) => [ch.action, ch.groupName, ch.userName])).toEqual([
      ['remove', 'Alpha Resource Owners', 'c@alphabeta.com'],
      ['add', 'Beta Resource Owners', 'f@alphabeta.com'],
    ]);

    // The Beta write fails for good.
    e.emulator.setFaults({ rules: [{ service: 'helloid', method: 'POST', path: `/groups/${beta}/users`, action: 'error', status: 400 }] });
    const first = await e.run(['apply', 'plan.yaml']);
    expect(first.code, show(first)).toBe(4);
    const outcomes = readJournalLines(e.file('plan.yaml.journal.jsonl')).filter((l) => l.outcome !== 'started').map((l) => [l.action, l.userGuid, l.outcome]);
    expect(outcomes).toEqual(expect.arrayContaining([['remove', c, 'done'], ['add', f, 'failed']]));
    expect(snapshot(e.emulator)[alpha.toLowerCase()]).not.toContain(c.toLowerCase());

    // HelloID recovers; an administrator re-adds c to Alpha.
    e.emulator.setFaults({ rules: [] });
    expect(h.addMember(alpha, c)).toBe('added');
    const writesBefore = helloidWrites(e.emulator);
    const state = snapshot(e.emulator);

    for (const args of [['apply', 'plan.yaml'], ['apply', 'plan.yaml', '--dry-run']]) {
      const r = await e.run(args);
      expect(r.code, show(r)).toBe(3);
      expect(r.stderr).toContain('refusing to apply plan.yaml: HelloID changed since it was planned; 1 group drifted');
      expect(r.stderr).toContain(`  - Alpha Resource Owners (${alpha}): re-added after an earlier run of this plan removed them: c@alphabeta.com (${c.toLowerCase()})`);
      expect(r.stderr).not.toContain('Beta Resource Owners (');
      expect(helloidWrites(e.emulator)).toBe(writesBefore);
      expect(snapshot(e.emulator)).toEqual(state);
    }
  });
});
