/**
 * Drift check: has HelloID moved since the plan was made? Per affected group, the
 * current members are compared with the members observed at plan time and with the
 * planned result. Apply proceeds only when every group is at one of those two
 * points — or provably between them because an earlier run of this same plan was
 * interrupted (the journal shows the writes that explain every difference).
 * Anything else means someone else changed the group, and the reviewed plan no
 * longer describes what apply would do.
 */
import { RefusedError } from '../errors.js';
import type { HelloIdWriteApi } from '../helloid/types.js';
import type { PlanFile } from '../plan/types.js';
import { attemptedChanges, journalKey } from './journal.js';
import { runPool } from '../pool.js';
import type { DriftReport, GroupDrift, JournalEntry } from './types.js';

export interface CheckDriftOptions {
  /** Journal lines of this plan's digest (from readJournal); lets an interrupted apply resume. */
  journal?: JournalEntry[];
  /** Parallel member reads. @default 4 */
  concurrency?: number;
}

const lc = (s: string): string => s.toLowerCase();

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

interface PlanIndex {
  groups: Map<string, PlanFile['groups'][number]>;
  /** journalKey of every planned change. */
  changes: Set<string>;
}
const indexes = new WeakMap<PlanFile, PlanIndex>();

function indexOf(plan: PlanFile): PlanIndex {
  let idx = indexes.get(plan);
  if (!idx) {
    idx = {
      groups: new Map(plan.groups.map((g) => [lc(g.groupGuid), g])),
      changes: new Set(plan.changes.map((c) => journalKey(c.groupGuid, c.userGuid, c.action))),
    };
    indexes.set(plan, idx);
  }
  return idx;
}

/** Classify one group given its current members. Exported for table-driven tests. */
export function classifyGroup(plan: PlanFile, groupGuid: string, currentMembers: string[], attempted: Set<string>): GroupDrift {
  const idx = indexOf(plan);
  const group = idx.groups.get(lc(groupGuid));
  if (!group) throw new Error(`classifyGroup: ${groupGuid} is not a group of this plan`);
  const current = new Set(currentMembers.map(lc));
  const observed = new Set(group.observedMembers.map(lc));
  const planned = new Set(group.plannedMembers.map(lc));
  const base = { groupGuid: group.groupGuid, groupName: group.groupName, currentMembers: [...current].sort() };

  if (sameSet(current, planned)) return { ...base, state: 'done', unexpectedMembers: [], missingMembers: [] };
  if (sameSet(current, observed)) return { ...base, state: 'pending', unexpectedMembers: [], missingMembers: [] };

  // Between observed and planned? Every addition must be a planned add and every
  // absence a planned remove, each of which an earlier run of this plan attempted.
  const explained = (user: string, action: 'add' | 'remove'): boolean => {
    const key = journalKey(group.groupGuid, user, action);
    return idx.changes.has(key) && attempted.has(key);
  };
  const unexpectedMembers = [...current].filter((u) => !observed.has(u) && !explained(u, 'add')).sort();
  const missingMembers = [...observed].filter((u) => !current.has(u) && !explained(u, 'remove')).sort();
  if (unexpectedMembers.length === 0 && missingMembers.length === 0) {
    return { ...base, state: 'in-progress', unexpectedMembers, missingMembers };
  }
  return { ...base, state: 'drifted', unexpectedMembers, missingMembers };
}

/** Read every affected group's members and classify it; never writes. */
export async function checkDrift(plan: PlanFile, api: HelloIdWriteApi, options: CheckDriftOptions = {}): Promise<DriftReport> {
  const attempted = attemptedChanges((options.journal ?? []).filter((e) => e.digest === plan.digest));
  const perGroup: GroupDrift[] = new Array(plan.groups.length);
  await runPool(plan.groups, options.concurrency ?? 4, async (g, i) => {
    const members = await api.getGroupMembers(g.groupGuid);
    perGroup[i] = classifyGroup(plan, g.groupGuid, members, attempted);
  });
  const status = perGroup.some((g) => g.state === 'drifted')
    ? 'drifted'
    : perGroup.every((g) => g.state === 'done')
      ? 'already-applied'
      : 'ready';
  return { status, perGroup };
}

/** The refusal for a drifted report, naming each drifted group and its unexplained differences. */
export function driftRefusal(plan: PlanFile, report: DriftReport, file = 'plan.yaml'): RefusedError {
  const names = new Map<string, string>();
  for (const c of [...plan.changes, ...plan.kept]) names.set(lc(c.userGuid), c.userName);
  const who = (u: string): string => (names.has(u) ? `${names.get(u)} (${u})` : u);
  const drifted = report.perGroup.filter((g) => g.state === 'drifted');
  const lines = drifted.map((g) => {
    const parts: string[] = [];
    if (g.unexpectedMembers.length > 0) parts.push(`added since planning: ${g.unexpectedMembers.map(who).join(', ')}`);
    if (g.missingMembers.length > 0) parts.push(`removed since planning: ${g.missingMembers.map(who).join(', ')}`);
    return `  - ${g.groupName} (${g.groupGuid}): ${parts.join('; ')}`;
  });
  return new RefusedError(
    [
      `refusing to apply ${file}: HelloID changed since it was planned; ${drifted.length} group${drifted.length === 1 ? '' : 's'} drifted ` +
        `(members equal neither those observed at plan time nor the planned result). Nothing was changed.`,
      ...lines,
      'Run `ownersync plan` again to plan against the current HelloID state.',
    ].join('\n'),
  );
}
