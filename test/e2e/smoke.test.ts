/** The main job end to end on the demo tenant: plan → approve → apply → plan again. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helloidWrites, setup, type Env } from './harness.js';

describe('demo tenant, plan → approve → apply → plan', () => {
  let e: Env;
  beforeAll(async () => {
    e = await setup();
  });
  afterAll(async () => e?.stop());

  it('converges with no changes left', async () => {
    const plan = await e.run(['plan', '--detailed-exitcode']);
    expect(plan.stderr).not.toMatch(/Error/);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('Plan: 11 to add, 2 to remove, 0 kept.');
    const approve = await e.run(['approve', 'plan.yaml', '--by', 'Reviewer']);
    expect(approve.code).toBe(0);
    const apply = await e.run(['apply', 'plan.yaml']);
    expect(apply.stderr).not.toMatch(/Error/);
    expect(apply.code).toBe(0);
    expect(helloidWrites(e.emulator)).toBe(13);
    const again = await e.run(['plan', '--detailed-exitcode', '-o', 'plan2.yaml']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Plan: 0 to add, 0 to remove, 0 kept.');
  });
});
