import { describe, expect, it } from 'vitest';
import { classifyGroup, driftRefusal, driftReport } from '../../src/apply/drift.js';
import type { JournalEntry, JournalOutcome } from '../../src/apply/types.js';
import { RefusedError } from '../../src/errors.js';
import { G, makePlan, U } from '../plan/helpers.js';

// Finance (G1): observed [U1, U2], planned [U1, U3] (remove U2, add U3).
// HR (G2): observed [U1], planned [U1, U4, U5].
const plan = makePlan();
const AT = '2025-03-01T12:00:00.000Z';
const line = (g: number, u: number, action: 'add' | 'remove', outcome: JournalOutcome, digest = plan.digest): JournalEntry => ({
  digest,
  groupGuid: G(g),
  userGuid: U(u),
  action,
  outcome,
  at: AT,
});
const started = (g: number, u: number, a: 'add' | 'remove'): JournalEntry => line(g, u, a, 'started');
const done = (g: number, u: number, a: 'add' | 'remove'): JournalEntry[] => [line(g, u, a, 'started'), line(g, u, a, 'done')];

describe('classifyGroup (Finance: observed U1,U2 → planned U1,U3)', () => {
  it.each<[string, string[], JournalEntry[], string, string[], string[]]>([
    ['equal to observed, no journal → pending', [U(1), U(2)], [], 'pending', [], []],
    ['equal to planned → done', [U(3), U(1)], [], 'done', [], []],
    ['equal to planned, whatever the journal says → done', [U(1), U(3)], done(1, 2, 'remove'), 'done', [], []],
    ['GUID case does not matter', [U(1).toUpperCase(), U(3)], [], 'done', [], []],
    ['add journaled done, in effect → in-progress', [U(1), U(2), U(3)], done(1, 3, 'add'), 'in-progress', [], []],
    ['remove journaled done, in effect → in-progress', [U(1)], done(1, 2, 'remove'), 'in-progress', [], []],
    ['add journaled "already" counts as done', [U(1), U(2), U(3)], [line(1, 3, 'add', 'already')], 'in-progress', [], []],
    ['add started (outcome lost), landed → in-progress', [U(1), U(2), U(3)], [started(1, 3, 'add')], 'in-progress', [], []],
    ['add started (outcome lost), not landed → pending', [U(1), U(2)], [started(1, 3, 'add')], 'pending', [], []],
    ['add failed, landed anyway → in-progress', [U(1), U(2), U(3)], [started(1, 3, 'add'), line(1, 3, 'add', 'failed')], 'in-progress', [], []],
    // Issue 17 story 1: the journal says U2's removal is done, but U2 is back.
    ['remove journaled done, member re-added → drifted', [U(1), U(2)], done(1, 2, 'remove'), 'drifted', [U(2)], []],
    ['add journaled done, member removed again → drifted', [U(1), U(2)], done(1, 3, 'add'), 'drifted', [], [U(3)]],
    ['half applied, not journaled → drifted', [U(1), U(2), U(3)], [], 'drifted', [U(3)], []],
    ['journaled for the wrong action → drifted', [U(1), U(2), U(3)], done(1, 3, 'remove'), 'drifted', [U(3)], []],
    ['journaled for another group → drifted', [U(1), U(2), U(3)], done(2, 3, 'add'), 'drifted', [U(3)], []],
    ['journal of another digest → drifted', [U(1), U(2), U(3)], [line(1, 3, 'add', 'done', `sha256:${'0'.repeat(64)}`)], 'drifted', [U(3)], []],
    ['someone else added a user → drifted', [U(1), U(2), U(9)], [], 'drifted', [U(9)], []],
    ['someone else removed a kept user → drifted', [U(2)], [started(1, 3, 'add')], 'drifted', [], [U(1)]],
    ['planned plus an extra → drifted', [U(1), U(3), U(9)], [...done(1, 3, 'add'), ...done(1, 2, 'remove')], 'drifted', [U(9)], []],
    ['emptied → drifted', [], [], 'drifted', [], [U(1), U(2)]],
  ])('%s', (_name, current, journal, state, unexpected, missing) => {
    const r = classifyGroup(plan, G(1), current, journal);
    expect(r.state).toBe(state);
    expect(r.unexpectedMembers).toEqual(unexpected);
    expect(r.missingMembers).toEqual(missing);
  });
});

describe('driftReport', () => {
  const members = (g1: string[], g2: string[]): Map<string, string[]> => new Map([[G(1), g1], [G(2), g2]]);

  it('ready when every group is pending; already-applied when every group is done', () => {
    expect(driftReport(plan, members([U(1), U(2)], [U(1)])).status).toBe('ready');
    expect(driftReport(plan, members([U(1), U(3)], [U(1), U(4), U(5)])).status).toBe('already-applied');
  });

  it('ready for a mix of done and pending groups (a resumed apply)', () => {
    const r = driftReport(plan, members([U(1), U(2)], [U(1), U(4), U(5)]), [...done(2, 4, 'add'), ...done(2, 5, 'add')]);
    expect(r.status).toBe('ready');
    expect(r.perGroup.map((g) => g.state)).toEqual(['pending', 'done']);
  });

  it('drifted when any group drifted, and the refusal names groups and users (plan names, looked-up names, else GUIDs)', () => {
    // HR: U9 and U4 (a planned add nobody journaled) appeared, U1 left.
    const r = driftReport(plan, members([U(1), U(2)], [U(4), U(9), U(8)]));
    expect(r.status).toBe('drifted');
    const err = driftRefusal(plan, r, 'plan.yaml', new Map([[U(9), 'intruder@contoso.com']]));
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(
      [
        'refusing to apply plan.yaml: HelloID changed since it was planned; 1 group drifted (members equal neither those observed at plan time, nor the planned result, nor what this plan\'s journaled writes explain). Nothing was changed.',
        `  - HR Resource Owners (${G(2)}): added since planning: user4@contoso.com (${U(4)}), ${U(8)}, intruder@contoso.com (${U(9)}); removed since planning: ${U(1)}`,
        'Run `ownersync plan` again to plan against the current HelloID state.',
      ].join('\n'),
    );
  });

  it('a member re-added after the journaled removal is named as such', () => {
    const r = driftReport(plan, members([U(1), U(2)], [U(1)]), done(1, 2, 'remove'));
    expect(r.status).toBe('drifted');
    expect(driftRefusal(plan, r, 'plan.yaml').message).toContain(
      `  - Finance Resource Owners (${G(1)}): re-added after an earlier run of this plan removed them: user2@contoso.com (${U(2)})`,
    );
  });
});
