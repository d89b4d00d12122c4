/**
 * Safety limits on removals (spec §3.7). A broken filter, a half-read tenant or a
 * renamed group can turn into "remove every owner"; these checks make such a plan fail
 * (exit 3) unless the operator overrides them, and the messages carry the numbers so a
 * reviewer sees at once how far over the line the plan is.
 */
import { cmp } from './order.js';
import { plural } from '../plural.js';
import type { Change, LimitViolation, ManagedGroup, SyncOptions } from './types.js';

export type RemovalLimits = SyncOptions['limits'];

function formatPercent(p: number): string {
  // One decimal is enough to judge, and avoids "33.33333333333333%".
  return Number.isInteger(p) ? String(p) : p.toFixed(1);
}

/**
 * Check `changes` against `limits`. `groups` supplies the current member counts (the
 * percentage base is the total of current members over all managed groups) and tells
 * which groups a plan would empty. Violations come in a fixed order: maxRemovals,
 * maxRemovalPercent, then one allowEmptyingGroups violation per group by name.
 */
/** The fields of a managed group the limits look at (a plan's groups have them too). */
export type LimitedGroup = Pick<ManagedGroup, 'groupGuid' | 'groupName' | 'mailbox' | 'observedMembers'>;

export function checkLimits(groups: readonly LimitedGroup[], changes: readonly Change[], limits: RemovalLimits): LimitViolation[] {
  const violations: LimitViolation[] = [];
  const removesByGroup = new Map<string, Set<string>>();
  const addsByGroup = new Set<string>();
  let removals = 0;
  for (const c of changes) {
    const g = c.groupGuid.toLowerCase();
    if (c.action !== 'remove') {
      addsByGroup.add(g);
      continue;
    }
    removals++;
    let set = removesByGroup.get(g);
    if (!set) removesByGroup.set(g, (set = new Set()));
    set.add(c.userGuid.toLowerCase());
  }

  if (removals > limits.maxRemovals) {
    violations.push({
      rule: 'maxRemovals',
      message: `${plural(removals, 'removal exceeds', 'removals exceed')} sync.limits.maxRemovals (${limits.maxRemovals})`,
    });
  }

  let totalCurrent = 0;
  for (const g of groups) totalCurrent += g.observedMembers.length;
  // removals*100 > pct*total avoids float rounding at the boundary. With no current
  // members there can be no removals, so a zero base never divides.
  if (removals > 0 && removals * 100 > limits.maxRemovalPercent * totalCurrent) {
    const pct = totalCurrent === 0 ? 100 : (removals * 100) / totalCurrent;
    violations.push({
      rule: 'maxRemovalPercent',
      message: `${plural(removals, 'removal is', 'removals are')} ${formatPercent(pct)}% of the ${plural(totalCurrent, 'current member', 'current members')} of managed groups, above sync.limits.maxRemovalPercent (${limits.maxRemovalPercent}%)`,
    });
  }

  if (!limits.allowEmptyingGroups) {
    const emptied: LimitViolation[] = [];
    const names: string[] = [];
    for (const g of groups) {
      const guid = g.groupGuid.toLowerCase();
      const removes = removesByGroup.get(guid);
      const before = g.observedMembers.length;
      // Every current member removed counts as emptying the group, adds or not: "every owner
      // replaced at once" is what a bad read looks like. The one exception is a group of one
      // whose member is handed over to another holder (an add beside the removal).
      if (!removes || before === 0 || removes.size < before) continue;
      if (before === 1 && addsByGroup.has(guid)) continue;
      if (!g.observedMembers.every((u) => removes.has(u.toLowerCase()))) continue;
      emptied.push({
        rule: 'allowEmptyingGroups',
        groupGuid: guid,
        message: addsByGroup.has(guid)
          ? `removing all ${before} current members of group '${g.groupName}' (${g.mailbox}) replaces every owner at once; sync.limits.allowEmptyingGroups is false`
          : `removing ${before === 1 ? 'the only member' : `all ${before} members`} would leave group '${g.groupName}' (${g.mailbox}) empty; sync.limits.allowEmptyingGroups is false`,
      });
      names.push(`${g.groupName.toLowerCase()}\u0000${guid}`);
    }
    const order = emptied.map((_, i) => i).sort((a, b) => cmp(names[a] as string, names[b] as string));
    for (const i of order) violations.push(emptied[i] as LimitViolation);
  }

  return violations;
}
