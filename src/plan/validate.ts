/**
 * Validation of a plan object beyond what JSON Schema can express: the relations
 * between `groups`, `changes` and `summary` that apply relies on. Apply executes
 * `changes` and checks drift against `observedMembers`/`plannedMembers`, so those must
 * agree with each other, or "already applied" and "drifted" would mean nothing.
 *
 * GUIDs are compared case-insensitively (HelloID does not promise a case).
 */
import { schemaProblems } from './schema.js';
import type { PlanFile } from './types.js';

/** Lower-case a GUID for comparison. */
export function normGuid(guid: string): string {
  return guid.toLowerCase();
}

/** Problems with the relations inside a schema-valid plan (empty when consistent). */
export function consistencyProblems(plan: PlanFile): string[] {
  const problems: string[] = [];
  const groupIndex = new Map<string, number>();

  plan.groups.forEach((g, i) => {
    const key = normGuid(g.groupGuid);
    const prev = groupIndex.get(key);
    if (prev !== undefined) problems.push(`groups[${i}]: group ${g.groupGuid} (${g.groupName}) is listed twice (also groups[${prev}])`);
    else groupIndex.set(key, i);
    for (const list of ['observedMembers', 'plannedMembers'] as const) {
      const seen = new Set<string>();
      g[list].forEach((m, j) => {
        if (seen.has(normGuid(m))) problems.push(`groups[${i}].${list}[${j}]: ${m} is listed twice`);
        seen.add(normGuid(m));
      });
    }
  });

  const pairIndex = new Map<string, number>();
  const adds = new Map<string, Set<string>>();
  const removes = new Map<string, Set<string>>();
  let addCount = 0;
  let removeCount = 0;
  plan.changes.forEach((c, i) => {
    if (c.action === 'add') addCount++;
    else removeCount++;
    const pair = `${normGuid(c.groupGuid)}/${normGuid(c.userGuid)}`;
    const prev = pairIndex.get(pair);
    if (prev !== undefined) {
      problems.push(
        `changes[${i}]: duplicated change: user ${c.userGuid} (${c.userName}) in group ${c.groupGuid} (${c.groupName}) already appears in changes[${prev}]`,
      );
      return;
    }
    pairIndex.set(pair, i);
    const gi = groupIndex.get(normGuid(c.groupGuid));
    if (gi === undefined) {
      problems.push(`changes[${i}]: group ${c.groupGuid} (${c.groupName}) is not listed in groups`);
      return;
    }
    const group = plan.groups[gi]!;
    // Written exactly as its group: show and the Markdown summary list a change under the
    // group with the same GUID string, and name it by the group's name, so a change
    // spelled otherwise would be applied without being shown where the reviewer looks.
    if (c.groupGuid !== group.groupGuid) problems.push(`changes[${i}]: group GUID ${c.groupGuid} is written differently from groups[${gi}] (${group.groupGuid})`);
    if (c.groupName !== group.groupName) problems.push(`changes[${i}]: group name '${c.groupName}' differs from groups[${gi}] ('${group.groupName}')`);
    const observed = new Set(group.observedMembers.map(normGuid));
    const user = normGuid(c.userGuid);
    if (c.action === 'add' && observed.has(user)) {
      problems.push(`changes[${i}]: adds ${c.userGuid} (${c.userName}) to ${group.groupName}, but groups[${gi}].observedMembers already has them`);
    }
    if (c.action === 'remove' && !observed.has(user)) {
      problems.push(`changes[${i}]: removes ${c.userGuid} (${c.userName}) from ${group.groupName}, but groups[${gi}].observedMembers does not have them`);
    }
    const bucket = c.action === 'add' ? adds : removes;
    const set = bucket.get(normGuid(c.groupGuid)) ?? new Set<string>();
    set.add(user);
    bucket.set(normGuid(c.groupGuid), set);
  });

  plan.groups.forEach((g, i) => {
    const key = normGuid(g.groupGuid);
    if (groupIndex.get(key) !== i) return;
    const a = adds.get(key) ?? new Set<string>();
    const r = removes.get(key) ?? new Set<string>();
    if (a.size === 0 && r.size === 0) {
      problems.push(`groups[${i}]: group ${g.groupGuid} (${g.groupName}) has no changes; a plan lists affected groups only`);
      return;
    }
    const expected = new Set(g.observedMembers.map(normGuid));
    for (const u of a) expected.add(u);
    for (const u of r) expected.delete(u);
    const planned = new Set(g.plannedMembers.map(normGuid));
    const missing = [...expected].filter((u) => !planned.has(u));
    const unexpected = [...planned].filter((u) => !expected.has(u));
    if (missing.length > 0 || unexpected.length > 0) {
      const parts: string[] = [];
      if (missing.length > 0) parts.push(`lacks ${missing.join(', ')}`);
      if (unexpected.length > 0) parts.push(`should not have ${unexpected.join(', ')}`);
      problems.push(
        `groups[${i}].plannedMembers: does not equal observedMembers plus the adds minus the removes of ${g.groupName} (${parts.join('; ')})`,
      );
    }
  });

  if (plan.summary.add !== addCount) problems.push(`summary.add: is ${plan.summary.add}, but changes has ${addCount} adds`);
  if (plan.summary.remove !== removeCount) problems.push(`summary.remove: is ${plan.summary.remove}, but changes has ${removeCount} removes`);
  if (plan.summary.kept !== plan.kept.length) problems.push(`summary.kept: is ${plan.summary.kept}, but kept lists ${plan.kept.length}`);

  const created = Date.parse(plan.createdAt);
  const expires = Date.parse(plan.expiresAt);
  if (!(expires > created)) problems.push(`expiresAt: ${plan.expiresAt} is not after createdAt ${plan.createdAt}`);

  return problems;
}

/** Schema problems, then (only for a schema-valid object) consistency problems. */
export function planProblems(value: unknown): string[] {
  const schema = schemaProblems(value);
  if (schema.length > 0) return schema;
  return consistencyProblems(value as PlanFile);
}
