import { describe, expect, it } from 'vitest';
import { checkDrift, classifyGroup, driftRefusal } from '../../src/apply/drift.js';
import { journalKey } from '../../src/apply/journal.js';
import type { JournalEntry } from '../../src/apply/types.js';
import { RefusedError } from '../../src/errors.js';
import { G, makePlan, U } from '../plan/helpers.js';
import { FakeHelloId } from './fake-helloid.js';

// Finance (G1): observed [U1, U2], planned [U1, U3] (remove U2, add U3).
const plan = makePlan();
const attempted = (...keys: Array<[number, number, 'add' | 'remove']>): Set<string> => new Set(keys.map(([g, u, a]) => journalKey(G(g), U(u), a)));

describe('classifyGroup (Finance: observed U1,U2 → planned U1,U3)', () => {
  it.each([
    ['equal to observed → pending', [U(1), U(2)], new Set<string>(), 'pending', [], []],
    ['equal to planned → done', [U(3), U(1)], new Set<string>(), 'done', [], []],
    ['GUID case does not matter', [U(1).toUpperCase(), U(3)], new Set<string>(), 'done', [], []],
    ['half applied, journaled → in-progress', [U(1), U(2), U(3)], attempted([1, 3, 'add']), 'in-progress', [], []],
    ['half applied (remove), journaled → in-progress', [U(1)], attempted([1, 2, 'remove']), 'in-progress', [], []],
    ['half applied, not journaled → drifted', [U(1), U(2), U(3)], new Set<string>(), 'drifted', [U(3)], []],
    ['journaled for the wrong action → drifted', [U(1), U(2), U(3)], attempted([1, 3, 'remove']), 'drifted', [U(3)], []],
    ['someone else added a user → drifted', [U(1), U(2), U(9)], new Set<string>(), 'drifted', [U(9)], []],
    ['someone else removed a kept user → drifted', [U(2)], attempted([1, 3, 'add']), 'drifted', [], [U(1)]],
    ['planned plus an extra → drifted', [U(1), U(3), U(9)], attempted([1, 3, 'add'], [1, 2, 'remove']), 'drifted', [U(9)], []],
    ['emptied → drifted', [], new Set<string>(), 'drifted', [], [U(1), U(2)]],
  ])('%s', (_name, current, att, state, unexpected, missing) => {
    const r = classifyGroup(plan, G(1), current, att);
    expect(r.state).toBe(state);
    expect(r.unexpectedMembers).toEqual(unexpected);
    expect(r.missingMembers).toEqual(missing);
  });
});

describe('checkDrift', () => {
  it('ready when every group is pending', async () => {
    const api = FakeHelloId.fromPlan(plan);
    const r = await checkDrift(plan, api);
    expect(r.status).toBe('ready');
    expect(r.perGroup.map((g) => g.state)).toEqual(['pending', 'pending']);
    expect(api.reads.sort()).toEqual([G(1), G(2)]);
    expect(api.writes).toEqual([]);
  });

  it('already-applied when every group is done', async () => {
    const r = await checkDrift(plan, FakeHelloId.fromPlan(plan, 'planned'));
    expect(r.status).toBe('already-applied');
  });

  it('ready for a mix of done and pending groups (a resumed apply)', async () => {
    const api = FakeHelloId.fromPlan(plan);
    api.members.set(G(2), new Set(plan.groups[1]!.plannedMembers));
    const r = await checkDrift(plan, api);
    expect(r.status).toBe('ready');
    expect(r.perGroup.map((g) => g.state)).toEqual(['pending', 'done']);
  });

  it('uses only journal lines of this digest', async () => {
    const api = FakeHelloId.fromPlan(plan);
    api.members.get(G(1))!.add(U(3));
    const line = (digest: string): JournalEntry => ({ digest, groupGuid: G(1), userGuid: U(3), action: 'add', outcome: 'started', at: '2025-03-01T12:00:00.000Z' });
    expect((await checkDrift(plan, api, { journal: [line(plan.digest)] })).status).toBe('ready');
    expect((await checkDrift(plan, api, { journal: [line(`sha256:${'0'.repeat(64)}`)] })).status).toBe('drifted');
  });

  it('drifted when any group drifted, and the refusal lists the groups with names', async () => {
    const api = FakeHelloId.fromPlan(plan);
    api.members.get(G(2))!.add(U(9));
    api.members.get(G(2))!.add(U(4)); // a planned add made by someone else: not journaled
    api.members.get(G(2))!.delete(U(1));
    const r = await checkDrift(plan, api);
    expect(r.status).toBe('drifted');
    const err = driftRefusal(plan, r, 'plan.yaml');
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(
      [
        'refusing to apply plan.yaml: HelloID changed since it was planned; 1 group drifted (members equal neither those observed at plan time nor the planned result). Nothing was changed.',
        `  - HR Resource Owners (${G(2)}): added since planning: user4@contoso.com (${U(4)}), ${U(9)}; removed since planning: ${U(1)}`,
        'Run `ownersync plan` again to plan against the current HelloID state.',
      ].join('\n'),
    );
  });

  it('propagates a failed member read (nothing is written)', async () => {
    const api = FakeHelloId.fromPlan(plan);
    api.getGroupMembers = async () => {
      throw new Error('GET https://contoso.helloid.com/api/v1/groups/x: 500');
    };
    await expect(checkDrift(plan, api)).rejects.toThrow(/500/);
  });
});
