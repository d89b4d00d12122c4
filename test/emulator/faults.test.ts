/**
 * Fault and scale controls, from code and from the control endpoints: latency,
 * concurrency limits (429 + Retry-After), seeded random failures, failing identities,
 * connection resets, hanging responses, expiring page links and tokens, stats, and
 * out-of-band HelloID changes. No assertion depends on wall time beyond lower bounds
 * the emulator itself guarantees.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { start, PAGINATION_ERROR, type Emulator } from '../../src/emulator/index.js';
import { Client, DEMO_FIXTURE } from './helpers.js';

let emu: Emulator;
let c: Client;

beforeAll(async () => {
  emu = await start({ fixture: DEMO_FIXTURE, options: { controlToken: 'test-control-token' } });
  c = new Client(emu);
  await c.exo('Get-Mailbox', { Identity: 'hr' }); // warm the token
});

afterAll(async () => {
  await c?.close();
  await emu?.stop();
});

beforeEach(() => {
  emu.resetFaults();
  emu.resetStats();
});

const groups = () => c.hid('GET', '/api/v1/groups?skip=0&take=5');

describe('latency and concurrency', () => {
  it('adds latency per request and per service', async () => {
    emu.setFaults({ latencyMs: 60, serviceLatencyMs: { helloid: 60 } });
    expect((await groups()).status).toBe(200);
    const e = emu.stats().log.at(-1)!;
    expect(e.service).toBe('helloid');
    expect(e.ms).toBeGreaterThanOrEqual(115);
  });

  it('answers 429 with Retry-After (fractional) above the per-service concurrency limit', async () => {
    emu.setFaults({ concurrency: { exchange: 2 }, latencyMs: 500, retryAfterSeconds: 0.5 });
    const rs = await Promise.all(Array.from({ length: 6 }, () => c.exo('Get-Mailbox', { Identity: 'finance' })));
    const ok = rs.filter((r) => r.status === 200);
    const throttled = rs.filter((r) => r.status === 429);
    expect(ok.length + throttled.length).toBe(6);
    expect(throttled.length).toBeGreaterThanOrEqual(1);
    for (const r of throttled) expect(r.headers['retry-after']).toBe('0.5');
    const s = emu.stats();
    expect(s.services.exchange.maxInFlight).toBeLessThanOrEqual(2);
    expect(s.services.exchange.status429).toBe(throttled.length);
    expect(s.services.exchange.inFlight).toBe(0);
    // Other services are not limited.
    expect((await groups()).status).toBe(200);
  });
});

describe('random failures', () => {
  const run = async () => {
    const out: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await groups();
      out.push(r.status);
      if (r.status === 429) expect(r.headers['retry-after']).toBe('1');
    }
    return out;
  };

  it('fails a seeded fraction with 429/5xx, reproducibly', async () => {
    emu.setFaults({ randomFailRate: 0.4, randomFailStatuses: [429, 500, 503], seed: 42, randomServices: ['helloid'] });
    const first = await run();
    const failures = first.filter((s) => s !== 200);
    expect(failures.length).toBeGreaterThan(3);
    expect(failures.length).toBeLessThan(27);
    expect(new Set(failures).size).toBeGreaterThan(1);
    expect(failures.every((s) => [429, 500, 503].includes(s))).toBe(true);
    emu.setFaults({ seed: 42 });
    expect(await run()).toEqual(first);
    // Services outside randomServices are unaffected.
    expect((await c.exo('Get-Mailbox', { Identity: 'hr' })).status).toBe(200);
    const s = emu.stats();
    expect(s.services.helloid.status429 + s.services.helloid.status5xx).toBe(failures.length * 2);
  });
});

describe('targeted faults', () => {
  it('fails a chosen cmdlet for a chosen identity (whatever form the client uses), `times` bounded', async () => {
    emu.setFaults({ rules: [{ cmdlet: 'Get-MailboxPermission', identity: 'finance@contoso.com', action: 'error', status: 500, times: 2 }] });
    const guid = (await c.exo('Get-Mailbox', { Identity: 'finance' })).json.value[0].Guid;
    expect((await c.exo('Get-MailboxPermission', { Identity: guid })).status).toBe(500);
    expect((await c.exo('Get-MailboxPermission', { Identity: 'hr@contoso.com' })).status).toBe(200);
    const second = await c.exo('Get-MailboxPermission', { Identity: 'Finance' });
    expect(second.status).toBe(500);
    expect(second.json.error.code).toBe('InternalServerError');
    expect((await c.exo('Get-MailboxPermission', { Identity: 'finance@contoso.com' })).status).toBe(200);
    expect(emu.stats().cmdlets['Get-MailboxPermission']!.status5xx).toBe(2);
  });

  it('applies identity rules per $batch sub-request', async () => {
    emu.setFaults({ rules: [{ identity: 'hr@contoso.com', action: 'error', status: 503 }] });
    const token = await c.token();
    const sub = (id: string, identity: string) => ({ id, method: 'POST', url: 'InvokeCommand', headers: {}, body: { CmdletInput: { CmdletName: 'Get-MailboxPermission', Parameters: { Identity: identity } } } });
    const r = await c.call('POST', `/adminapi/beta/${emu.tenantId}/$batch`, {
      headers: { authorization: `Bearer ${token}` },
      body: { requests: [sub('a', 'finance@contoso.com'), sub('b', 'HR')] },
    });
    expect(r.status).toBe(200);
    expect(r.json.responses.map((x: { status: number }) => x.status)).toEqual([200, 503]);
    expect(r.json.responses[1].headers['Retry-After']).toBe('1');
  });

  it('resets connections for a chosen route, then recovers', async () => {
    emu.setFaults({ rules: [{ service: 'helloid', path: '/api/v1/groups', action: 'reset', times: 1 }] });
    await expect(groups()).rejects.toThrow();
    expect((await groups()).status).toBe(200);
    expect(emu.stats().services.helloid.resets).toBe(1);
  });

  it('resets a fraction of connections', async () => {
    emu.setFaults({ resetRate: 1, randomServices: ['entra'] });
    await expect(c.token()).rejects.toThrow();
    emu.setFaults({ resetRate: 0 });
    expect(await c.token()).toBeTruthy();
  });

  it('holds a hanging response beyond the client timeout', async () => {
    emu.setFaults({ rules: [{ service: 'helloid', action: 'hang', hangMs: 10_000, times: 1 }] });
    await expect(c.call('GET', '/api/v1/groups', { headers: { authorization: (await import('./helpers.js')).HELLOID_AUTH }, timeoutMs: 300 })).rejects.toThrow(/timeout/i);
    expect((await groups()).status).toBe(200);
    await sleep(50);
    const hung = emu.stats().log.find((e) => e.fault === 'hang');
    expect(hung?.status).toBe(0);
    expect(emu.stats().services.helloid.inFlight).toBe(0);
  });

  it('a short hang answers normally afterwards', async () => {
    emu.setFaults({ rules: [{ service: 'helloid', action: 'hang', hangMs: 80 }] });
    const r = await groups();
    expect(r.status).toBe(200);
    expect(emu.stats().log.at(-1)).toMatchObject({ fault: 'hang', status: 200 });
    expect(emu.stats().log.at(-1)!.ms).toBeGreaterThanOrEqual(75);
  });
});

describe('expiry', () => {
  const firstPage = async () => {
    const r = await c.exo('Get-User', { ResultSize: 'Unlimited' }, { headers: { Prefer: 'odata.maxpagesize=10' } });
    return r.json['@odata.nextLink'] as string;
  };

  it('expired page links → 400 "Expired or Invalid pagination request" (explicit, then by TTL)', async () => {
    const link = await firstPage();
    expect((await c.exo('Get-User', { ResultSize: 'Unlimited' }, { url: link })).status).toBe(200);
    emu.expirePageLinks();
    const r = await c.exo('Get-User', { ResultSize: 'Unlimited' }, { url: link });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe(PAGINATION_ERROR);
    expect(r.json.error.message).toContain('Expired or Invalid pagination request');

    emu.setFaults({ pageLinkTtlSeconds: 0.05 });
    const link2 = await firstPage();
    await sleep(120);
    expect((await c.exo('Get-User', { ResultSize: 'Unlimited' }, { url: link2 })).status).toBe(400);
  });

  it('tokens expire after the configured lifetime, or on demand', async () => {
    // A lifetime long enough that the first call makes it in time on a loaded machine.
    emu.setFaults({ tokenLifetimeSeconds: 1.5 });
    const short = await c.token();
    expect((await c.exo('Get-Mailbox', { Identity: 'hr' }, { token: short })).status).toBe(200);
    await sleep(1_600);
    const expired = await c.exo('Get-Mailbox', { Identity: 'hr' }, { token: short });
    expect(expired.status).toBe(401);
    expect(expired.headers['www-authenticate']).toMatch(/expired/);

    emu.setFaults({ tokenLifetimeSeconds: 3599 });
    const long = await c.token();
    emu.expireTokens();
    expect((await c.exo('Get-Mailbox', { Identity: 'hr' }, { token: long })).status).toBe(401);
    expect((await c.exo('Get-Mailbox', { Identity: 'hr' }, { token: await c.token() })).status).toBe(200);
  });
});

describe('control endpoints', () => {
  it('require the control token (health excepted)', async () => {
    expect((await c.call('GET', '/_emulator/stats')).status).toBe(401);
    expect((await c.call('GET', '/_emulator/stats', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await c.call('GET', '/_emulator/stats', { headers: { 'x-emulator-token': 'test-control-token' } })).status).toBe(200);
    expect((await c.call('GET', '/_emulator/health')).json).toEqual({ ok: true });
  });

  it('GET stats, POST faults, POST reset-stats', async () => {
    await c.exo('Get-Mailbox', { Identity: 'hr' }); // renews the client's token if an earlier test expired it
    emu.resetStats();
    await groups();
    await c.exo('Get-Mailbox', { Identity: 'hr' });
    const s = await c.control('GET', '/_emulator/stats');
    expect(s.status).toBe(200);
    expect(s.json.services.helloid.requests).toBe(1);
    expect(s.json.services.exchange.requests).toBe(1);
    expect(s.json.routes['helloid GET /api/v1/groups'].requests).toBe(1);
    expect(s.json.routes['exchange POST /adminapi/beta/{tenant}/InvokeCommand Get-Mailbox'].status2xx).toBe(1);
    expect(s.json.log.at(-1)).toMatchObject({ method: 'POST', service: 'exchange', cmdlet: 'Get-Mailbox', identity: 'hr', status: 200 });
    // Control calls themselves are not counted.
    expect((await c.control('GET', '/_emulator/stats')).json.totals.requests).toBe(2);

    const f = await c.control('POST', '/_emulator/faults', { rules: [{ service: 'helloid', action: 'error', status: 502 }], concurrency: { helloid: 3 } });
    expect(f.status).toBe(200);
    expect(f.json.concurrency).toEqual({ helloid: 3 });
    expect((await groups()).status).toBe(502);
    expect(emu.faults().rules).toHaveLength(1);
    expect((await c.control('POST', '/_emulator/faults', { randomFailRate: 7 })).status).toBe(400);
    expect((await c.control('POST', '/_emulator/reset-faults')).json.rules).toEqual([]);
    expect((await groups()).status).toBe(200);

    expect((await c.control('POST', '/_emulator/reset-stats')).status).toBe(200);
    expect(emu.stats().totals.requests).toBe(0);
  });

  it('changes HelloID membership out of band (drift)', async () => {
    const name = encodeURIComponent('Finance Resource Owners');
    const before = await c.control('GET', `/_emulator/helloid/groups/${name}`);
    expect(before.json.members.map((m: { userName: string }) => m.userName)).toEqual(['anna.jansen@contoso.com']);
    const add = await c.control('POST', `/_emulator/helloid/groups/${name}/members`, { user: 'bram.devries@contoso.com' });
    expect(add.json.outcome).toBe('added');
    const guid = before.json.groupGuid as string;
    const api = await c.hid('GET', `/api/v1/groups/${guid}`);
    expect(api.json.users).toContain(emu.state.helloid.findUser('bram.devries@contoso.com')!.userGUID);
    const del = await c.control('DELETE', `/_emulator/helloid/groups/${guid}/members/${encodeURIComponent('anna.jansen@contoso.com')}`);
    expect(del.json.outcome).toBe('removed');
    expect(del.json.members.map((m: { userName: string }) => m.userName)).toEqual(['bram.devries@contoso.com']);
    expect((await c.control('POST', `/_emulator/helloid/groups/${name}/members`, { user: 'ghost' })).status).toBe(404);
    // The same, from code.
    expect(emu.state.helloid.removeMember('Finance Resource Owners', 'bram.devries@contoso.com')).toBe('removed');
    expect(emu.state.helloid.addMember('Finance Resource Owners', 'anna.jansen@contoso.com')).toBe('added');
    expect(emu.state.helloid.memberNames('Finance Resource Owners')).toEqual(['anna.jansen@contoso.com']);
  });
});
