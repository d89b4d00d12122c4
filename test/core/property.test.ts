import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeDesiredState,
  computeDiff,
  type DesiredState,
  type DiffResult,
  type HelloIdGroup,
  type HelloIdSnapshot,
  type SyncOptions,
} from '../../src/core/index.js';
import { shuffleTenant, tenantArb, type Tenant } from './arbitraries.js';

const RUNS = { numRuns: 300 };

function run(t: Tenant): { desired: DesiredState; diff: DiffResult } {
  const desired = computeDesiredState(t.exchange, t.opts);
  return { desired, diff: computeDiff(desired, t.helloid, t.opts) };
}

/**
 * The owner group of a name, written out from spec §3 rule 5 with no code from src: among
 * the groups of the configured source (empty or null means Local), the name compared
 * case-insensitively, and only when nothing matches, without diacritics (NFD, combining
 * marks dropped); several groups → none (the mailbox is skipped).
 */
function ownerGroupOf(name: string, groups: readonly HelloIdGroup[], opts: SyncOptions): HelloIdGroup | undefined {
  const sourceOf = (s: string | null | undefined): string => ((s ?? '').trim() === '' ? 'local' : (s ?? '').trim().toLowerCase());
  const candidates = groups.filter((g) => sourceOf(g.source) === sourceOf(opts.groupSource));
  const passes = [(s: string): string => s.normalize('NFC').toLowerCase(), (s: string): string => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()];
  for (const key of passes) {
    const hits = new Map(candidates.filter((g) => key(g.name) === key(name)).map((g) => [g.groupGuid.toLowerCase(), g] as const));
    if (hits.size > 0) return hits.size === 1 ? [...hits.values()][0] : undefined;
  }
  return undefined;
}

/**
 * The desired userGuids per HelloID group, computed independently of computeDiff's
 * machinery: owner group by ownerGroupOf, holder → HelloID user by a plain scan.
 */
function desiredGuids(desired: DesiredState, helloid: HelloIdSnapshot, opts: SyncOptions): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const mb of desired.mailboxes) {
    const group = ownerGroupOf(mb.ownerGroupName, helloid.groups, opts);
    if (!group) continue;
    const key = group.groupGuid.toLowerCase();
    const set = out.get(key) ?? new Set<string>();
    out.set(key, set);
    for (const h of mb.holders) {
      const users = helloid.users.filter((u) => u.userName.toLowerCase() === h.userPrincipalName.toLowerCase());
      if (users.length === 1) set.add(users[0]!.userGuid.toLowerCase());
    }
  }
  return out;
}

describe('core properties', () => {
  it('applying the changes to the observed members gives the planned members', () => {
    fc.assert(
      fc.property(tenantArb, (t) => {
        const { diff } = run(t);
        for (const grp of diff.groups) {
          const members = new Set(grp.observedMembers);
          for (const c of diff.changes) {
            if (c.groupGuid !== grp.groupGuid) continue;
            if (c.action === 'add') {
              expect(members.has(c.userGuid)).toBe(false);
              members.add(c.userGuid);
            } else {
              expect(members.has(c.userGuid)).toBe(true);
              members.delete(c.userGuid);
            }
          }
          expect([...members].sort()).toEqual(grp.plannedMembers);
        }
        // Every change belongs to a managed group; no (group, user) pair twice.
        const managed = new Set(diff.groups.map((x) => x.groupGuid));
        const pairs = new Set<string>();
        for (const c of [...diff.changes, ...diff.kept]) {
          expect(managed.has(c.groupGuid)).toBe(true);
          expect(c.groupGuid).toBe(c.groupGuid.toLowerCase());
          expect(c.userGuid).toBe(c.userGuid.toLowerCase());
          const pair = `${c.groupGuid}/${c.userGuid}`;
          expect(pairs.has(pair)).toBe(false);
          pairs.add(pair);
        }
      }),
      RUNS,
    );
  });

  it('a complete group with removeMembers on and no protected users ends up exactly as desired', () => {
    fc.assert(
      fc.property(tenantArb, (t0) => {
        const t: Tenant = { ...t0, opts: { ...t0.opts, removeMembers: true, protectedUsers: [] } };
        const { desired, diff } = run(t);
        const want = desiredGuids(desired, t.helloid, t.opts);
        for (const grp of diff.groups) {
          const expected = [...(want.get(grp.groupGuid) ?? [])].sort();
          // Members HelloID does not know as users are kept whatever else happens (rule 6).
          // Taken from the input tenant, not from the diff's own observedMembers.
          const knownGuids = new Set(t.helloid.users.map((u) => u.userGuid.toLowerCase()));
          const input = t.helloid.groups.find((g) => g.groupGuid.toLowerCase() === grp.groupGuid);
          const unknownMembers = (input?.members ?? []).map((m) => m.toLowerCase()).filter((m) => !knownGuids.has(m));
          if (grp.holdReasons.length === 0) expect(grp.plannedMembers).toEqual([...new Set([...expected, ...unknownMembers])].sort());
          // Incomplete groups never lose anyone. When their HelloID members were read they
          // still gain every desired member; when not, nothing is planned for them at all.
          else {
            expect(diff.changes.some((c) => c.groupGuid === grp.groupGuid && c.action === 'remove')).toBe(false);
            const hid = t.helloid.groups.find((g) => g.groupGuid.toLowerCase() === grp.groupGuid.toLowerCase());
            if (hid && hid.members === null) expect(diff.changes.some((c) => c.groupGuid === grp.groupGuid)).toBe(false);
            else for (const u of expected) expect(grp.plannedMembers).toContain(u);
          }
        }
      }),
      RUNS,
    );
  });

  it('removals only happen with removeMembers on, never for protected users', () => {
    fc.assert(
      fc.property(tenantArb, (t) => {
        const { diff } = run(t);
        const removes = diff.changes.filter((c) => c.action === 'remove');
        if (!t.opts.removeMembers) expect(removes).toEqual([]);
        const prot = new Set(t.opts.protectedUsers.map((p) => p.toLowerCase()));
        for (const c of removes) expect(prot.has(c.userName.toLowerCase())).toBe(false);
        for (const c of removes) expect(diff.groups.find((x) => x.groupGuid === c.groupGuid)!.holdReasons).toEqual([]);
      }),
      RUNS,
    );
  });

  it('diffing against a HelloID that already equals the desired state gives no changes', () => {
    fc.assert(
      fc.property(tenantArb, (t) => {
        const desired = computeDesiredState(t.exchange, t.opts);
        const want = desiredGuids(desired, t.helloid, t.opts);
        const helloid: HelloIdSnapshot = {
          users: t.helloid.users,
          groups: t.helloid.groups.map((grp) => {
            const w = want.get(grp.groupGuid.toLowerCase());
            return w ? { ...grp, members: [...w] } : grp;
          }),
        };
        const diff = computeDiff(desired, helloid, t.opts);
        expect(diff.changes).toEqual([]);
        expect(diff.limitViolations).toEqual([]);
      }),
      RUNS,
    );
  });

  it('is deterministic: the same tenant in any input order gives identical output', () => {
    fc.assert(
      fc.property(tenantArb, fc.integer({ min: 1, max: 2 ** 30 }), (t, seed) => {
        const a = run(t);
        const b = run(shuffleTenant(t, seed));
        expect(b.desired).toEqual(a.desired);
        expect(b.diff).toEqual(a.diff);
        expect(JSON.stringify(b)).toBe(JSON.stringify(a));
        // And the same input twice is trivially identical, byte for byte.
        expect(JSON.stringify(run(t))).toBe(JSON.stringify(a));
      }),
      RUNS,
    );
  });

  it('the diff is the same for a desired state rebuilt or edited by the caller', () => {
    // computeDiff may use a private memo of computeDesiredState's output (hints.ts); it
    // must never change the result, whatever the caller did to the desired state.
    fc.assert(
      fc.property(tenantArb, fc.nat(), (t, pick) => {
        const desired = computeDesiredState(t.exchange, t.opts);
        const plain = (d: DesiredState) => computeDiff(JSON.parse(JSON.stringify(d)) as DesiredState, t.helloid, t.opts);
        expect(computeDiff(desired, t.helloid, t.opts)).toEqual(plain(desired));
        // Edit in place: reverse holders, rename one, drop another.
        for (const m of desired.mailboxes) m.holders.reverse();
        const all = desired.mailboxes.flatMap((m) => m.holders);
        if (all.length > 0) all[pick % all.length]!.userPrincipalName = t.exchange.users[pick % Math.max(1, t.exchange.users.length)]?.userPrincipalName ?? 'x@y';
        const withHolders = desired.mailboxes.find((m) => m.holders.length > 1);
        withHolders?.holders.splice(pick % withHolders.holders.length, 1);
        expect(computeDiff(desired, t.helloid, t.opts)).toEqual(plain(desired));
      }),
      RUNS,
    );
  });

  it('output is sorted as specified', () => {
    const ci = (a: string, b: string): number => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0);
    fc.assert(
      fc.property(tenantArb, (t) => {
        const { desired, diff } = run(t);
        for (let i = 1; i < desired.mailboxes.length; i++) expect(ci(desired.mailboxes[i - 1]!.ownerGroupName, desired.mailboxes[i]!.ownerGroupName)).toBeLessThanOrEqual(0);
        for (const m of desired.mailboxes) for (let i = 1; i < m.holders.length; i++) expect(ci(m.holders[i - 1]!.userPrincipalName, m.holders[i]!.userPrincipalName)).toBeLessThan(0);
        for (const list of [diff.changes, diff.kept]) {
          for (let i = 1; i < list.length; i++) {
            const p = list[i - 1]!;
            const c = list[i]!;
            const byGroup = ci(p.groupName, c.groupName);
            expect(byGroup).toBeLessThanOrEqual(0);
            if (byGroup === 0 && p.groupGuid === c.groupGuid) expect(ci(p.userName, c.userName)).toBeLessThanOrEqual(0);
          }
        }
        for (let i = 1; i < diff.groups.length; i++) expect(ci(diff.groups[i - 1]!.groupName, diff.groups[i]!.groupName)).toBeLessThanOrEqual(0);
        for (const grp of diff.groups) {
          expect(grp.observedMembers).toEqual([...grp.observedMembers].sort());
          expect(grp.plannedMembers).toEqual([...grp.plannedMembers].sort());
        }
      }),
      RUNS,
    );
  });
});
