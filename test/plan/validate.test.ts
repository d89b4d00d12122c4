/**
 * A change must be written exactly as the group it belongs to: `show` and the Markdown
 * summary list changes under the group with the same GUID string and print the group's
 * name, so a change spelled otherwise would be applied without being shown there.
 */
import { describe, expect, it } from 'vitest';
import { planProblems } from '../../src/plan/validate.js';
import { makePlan } from './helpers.js';

describe('planProblems: a change is written as its group', () => {
  it('accepts a built plan', () => {
    expect(planProblems(makePlan())).toEqual([]);
  });

  it('refuses a change whose group GUID differs in case from its group', () => {
    const plan = makePlan();
    const c = plan.changes[0]!;
    const written = c.groupGuid;
    c.groupGuid = written.toUpperCase();
    expect(planProblems(plan)).toEqual([`changes[0]: group GUID ${written.toUpperCase()} is written differently from groups[0] (${written})`]);
  });

  it('refuses a change that names another group than its group', () => {
    const plan = makePlan();
    const name = plan.changes[0]!.groupName;
    plan.changes[0]!.groupName = 'Board Resource Owners';
    expect(planProblems(plan)).toEqual([`changes[0]: group name 'Board Resource Owners' differs from groups[0] ('${name}')`]);
  });
});
