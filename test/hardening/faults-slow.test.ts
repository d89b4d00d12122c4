/**
 * The fault cases that need real waiting, run side by side (each with its own
 * emulator) so the file stays short: a response slower than the client's 30 s
 * header timeout, HelloID unreachable (every connection reset, so the client's
 * backoff without Retry-After runs its course), and apply under connection resets.
 *
 * The client's timeouts (src/http/options.ts: 30 s headers, 60 s body, 30 s connect)
 * cannot be shortened from the CLI (no flag, config key or environment variable), so
 * the timeout case really waits a little over 30 s.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { setup, type Env } from '../e2e/harness.js';
import { changeKeys, expectNoStack, fileExists, PERMISSIVE, planJson, successfulWrites } from './helpers.js';

const envs: Env[] = [];
afterAll(async () => {
  await Promise.all(envs.map((e) => e.stop()));
});

async function env(...args: Parameters<typeof setup>): Promise<Env> {
  const e = await setup(...args);
  envs.push(e);
  return e;
}

describe.concurrent('slow faults', () => {
  it('one Get-MailboxPermission hangs past the 30 s header timeout: timed out, retried, same plan', async () => {
    const e = await env({ sync: PERMISSIVE });
    const clean = await planJson(e);
    expect(clean.code, clean.stderr).toBe(2);
    e.emulator.resetStats();
    e.emulator.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-MailboxPermission', identity: 'facilities@contoso.com', action: 'hang', hangMs: 33_000, times: 1 }] });
    const r = await planJson(e, { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(2);
    const log = e.emulator.stats().log;
    // The hung request was abandoned by the client (status 0: it went away), then retried.
    expect(log.filter((l) => l.fault === 'hang' && l.status === 0)).toHaveLength(1);
    expect(changeKeys(r.json!)).toEqual(changeKeys(clean.json!));
  }, 90_000);

  it('HelloID unreachable (every connection reset): exit 1 naming the URL and the reset, nothing written', async () => {
    const e = await env({ sync: PERMISSIVE, faults: { resetRate: 1, randomServices: ['helloid'] } });
    const r = await planJson(e, { timeoutMs: 90_000 });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/\/api\/v1\/(users|groups)/);
    expect(r.stderr).toMatch(/ECONNRESET|socket|closed/i);
    expect(r.stderr).toMatch(/attempts/);
    expectNoStack(r.stderr);
    expect(fileExists(e, r.planFile)).toBe(false);
    expect(fileExists(e, r.stateFile)).toBe(false);
  }, 90_000);

  it('apply under connection resets: every change is made exactly once, none lost; a re-plan is empty', async () => {
    const e = await env({ sync: PERMISSIVE });
    const p = await planJson(e);
    expect(p.code, p.stderr).toBe(2);
    const plan = p.json!;
    expect((await e.run(['approve', p.planFile, '--by', 'Reviewer'])).code).toBe(0);
    e.emulator.resetStats();
    e.emulator.setFaults({ resetRate: 0.3, randomServices: ['helloid'], seed: 21 });
    const a = await e.run(['apply', p.planFile, '--json'], { timeoutMs: 90_000 });
    expect(a.code, a.stderr).toBe(0);
    expect(e.emulator.stats().services.helloid.resets).toBeGreaterThan(0);
    // One successful write per planned change: none repeated, none lost. An add is a
    // POST to the group's /users (user in the body), a removal a DELETE of the user.
    const expected = new Map<string, number>();
    for (const c of plan.changes) {
      const k =
        c.action === 'add'
          ? `POST /api/v1/groups/${c.groupGuid.toLowerCase()}/users`
          : `DELETE /api/v1/groups/${c.groupGuid.toLowerCase()}/users/${c.userGuid.toLowerCase()}`;
      expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    expect(Object.fromEntries(successfulWrites(e.emulator))).toEqual(Object.fromEntries(expected));
    // HelloID now holds exactly what the plan said.
    for (const c of plan.changes) {
      const g = e.emulator.state.helloid.groups.find((x) => x.groupGuid.toLowerCase() === c.groupGuid.toLowerCase())!;
      const has = [...g.members].some((m) => m.toLowerCase() === c.userGuid.toLowerCase());
      expect(has, `${c.action} ${c.userName} in ${c.groupName}`).toBe(c.action === 'add');
    }
    e.emulator.resetFaults();
    const again = await planJson(e);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json!.changes).toEqual([]);
  }, 90_000);
});
