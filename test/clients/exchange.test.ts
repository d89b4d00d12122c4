/**
 * The Exchange admin API client against the emulator: paging under small server caps,
 * $batch, group expansion (nested, cyclic), throttling and 5xx storms, permanent
 * per-mailbox failures, expired page links, and fatal listing failures.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator, TenantFixture } from '../../src/emulator/index.js';
import { loadFixture } from '../../src/emulator/index.js';
import type { ExchangeSnapshot, Mailbox } from '../../src/core/types.js';
import { readExchange, type EntraAuth } from '../../src/exchange/index.js';
import { closeSharedDispatchers, HttpError, type HttpEvent } from '../../src/http/index.js';
import { configFor, DEMO_FIXTURE, exchangeClient, fastSleep, logged, startEmulator, type TestConfig } from './helpers.js';

let emu: Emulator;
let cfg: TestConfig;
let baseline: ExchangeSnapshot;

const calm = {
  randomFailRate: 0,
  resetRate: 0,
  rules: [],
  latencyMs: 0,
  concurrency: { exchange: null, entra: null, helloid: null } as unknown as Record<string, number>,
};

beforeAll(async () => {
  emu = await startEmulator();
  cfg = configFor(emu);
  baseline = await readExchange(cfg, { exchange: exchangeClient(emu, cfg, { client: { useBatch: false } }).client });
});
afterEach(() => {
  emu.setFaults(calm);
});
afterAll(async () => {
  await emu.stop();
  await closeSharedDispatchers();
});

describe('baseline read', () => {
  it('reads the demo tenant completely', () => {
    expect(baseline.mailboxes).toHaveLength(20);
    expect(baseline.mailboxes.every((m) => Array.isArray(m.permissions) && m.permissionError === undefined)).toBe(true);
    expect(baseline.users.length).toBeGreaterThan(50);
    expect(baseline.groups.map((g) => g.name)).toEqual(['SG-Communicatie', 'SG-HR-Managers', 'SG-HR-Team']);
    const finance = baseline.mailboxes.find((m) => m.primarySmtpAddress === 'finance@contoso.com') as Mailbox;
    expect(finance).toMatchObject({ displayName: 'Finance', alias: 'finance' });
    expect(finance.guid).toMatch(/^[0-9a-f-]{36}$/);
    expect(finance.permissions).toContainEqual({ trustee: 'anna.jansen@contoso.com', accessRights: ['FullAccess'], isInherited: false, deny: false });
  });
});

describe('readExchange', () => {
  it('builds its clients from the config and reports progress per phase', async () => {
    const phases: string[] = [];
    const snap = await readExchange(cfg, {
      caPem: emu.caPem,
      httpOptions: { sleep: fastSleep },
      onProgress: (phase, counts) => phases.push(`${phase}:${counts.done}/${counts.total ?? ''}`),
    });
    expect(snap).toEqual(baseline);
    expect(phases[0]).toBe('mailboxes:20/20');
    expect(phases).toContain('permissions:20/20');
    expect(phases).toContain(`users:${baseline.users.length}/${baseline.users.length}`);
    expect(phases.at(-1)).toBe('groups:3/3');
  });

  it('refuses zero mailboxes, naming the filter', async () => {
    const none = configFor(emu, { mailboxFilter: "DisplayName -eq 'No such mailbox'" });
    await expect(readExchange(none, { exchange: exchangeClient(emu, none).client })).rejects.toThrow(
      `Exchange returned zero shared mailboxes for exchange.mailboxFilter "DisplayName -eq 'No such mailbox'"`,
    );
  });

  it('skips group resolution when expandGroups is false', async () => {
    const flat = configFor(emu, { expandGroups: false });
    const snap = await readExchange(flat, { exchange: exchangeClient(emu, flat).client });
    expect(snap.groups).toEqual([]);
    expect(snap.mailboxes).toEqual(baseline.mailboxes);
  });
});

describe('paging', () => {
  it('follows every @odata.nextLink under a small server cap', async () => {
    const small = await startEmulator({ options: { exchange: { maxPageSize: 3 } } });
    try {
      const c = configFor(small);
      const snap = await readExchange(c, { exchange: exchangeClient(small, c).client });
      expect(snap.mailboxes.map((m) => m.primarySmtpAddress)).toEqual(baseline.mailboxes.map((m) => m.primarySmtpAddress));
      expect(snap.users).toEqual(baseline.users);
      expect(logged(small, { cmdlet: 'Get-Mailbox' })).toHaveLength(Math.ceil(20 / 3));
      expect(logged(small, { cmdlet: 'Get-User' })).toHaveLength(Math.ceil(baseline.users.length / 3));
      // Every page after the first went to the link the server gave.
      expect(logged(small, { cmdlet: 'Get-Mailbox' }).filter((e) => e.path.includes('$skiptoken='))).toHaveLength(Math.ceil(20 / 3) - 1);
    } finally {
      await small.stop();
    }
  });

  it('restarts a listing whose page link expired, and returns it whole', async () => {
    const small = await startEmulator({ options: { exchange: { maxPageSize: 6 } } });
    try {
      let expired = false;
      const notices: string[] = [];
      const onEvent = (e: HttpEvent): void => {
        if (!expired && e.type === 'response' && e.label === 'Get-Mailbox' && e.status === 200) {
          expired = true;
          small.expirePageLinks();
        }
      };
      const c = configFor(small);
      const { client } = exchangeClient(small, c, { http: { onEvent }, client: { onNotice: (m) => notices.push(m) } });
      const mailboxes = await client.listMailboxes();
      expect(mailboxes.map((m) => m.guid)).toEqual(baseline.mailboxes.map((m) => m.guid));
      expect(notices).toEqual(['Get-Mailbox: page link expired after 1 page(s); restarting the listing']);
      const statuses = logged(small, { cmdlet: 'Get-Mailbox' }).map((e) => e.status);
      expect(statuses).toEqual([200, 400, 200, 200, 200, 200]);
    } finally {
      await small.stop();
    }
  });

  it('gives up after a bounded number of restarts', async () => {
    const small = await startEmulator({ options: { exchange: { maxPageSize: 6 } } });
    try {
      const onEvent = (e: HttpEvent): void => {
        if (e.type === 'response' && e.label === 'Get-Mailbox' && e.status === 200) small.expirePageLinks();
      };
      const c = configFor(small);
      const { client } = exchangeClient(small, c, { http: { onEvent }, client: { maxListingRestarts: 2 } });
      const err = (await client.listMailboxes().catch((e: unknown) => e)) as HttpError;
      expect(err).toBeInstanceOf(HttpError);
      expect(err.message).toMatch(/^POST https:\/\/127\.0\.0\.1:\d+\/adminapi\/beta\/[^/]+\/InvokeCommand\?\$skiptoken=\S+ \(Get-Mailbox\) failed: 400 Bad Request — response: .*Expired or Invalid pagination request/);
      expect(logged(small, { cmdlet: 'Get-Mailbox' })).toHaveLength(6);
    } finally {
      await small.stop();
    }
  });

  it('applies the mailbox filter', async () => {
    const { client } = exchangeClient(emu, configFor(emu, { mailboxFilter: "DisplayName -like 'H*'" }));
    const names = (await client.listMailboxes()).map((m) => m.displayName);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => n.startsWith('H'))).toBe(true);
    expect(names.length).toBeLessThan(20);
  });
});

describe('$batch', () => {
  it('reads permissions 10 mailboxes per round trip, with the same result as single calls', async () => {
    emu.resetStats();
    const { client } = exchangeClient(emu, cfg, { client: { useBatch: true } });
    const mailboxes = await client.listMailboxes();
    const progress: number[] = [];
    const withPerms = await client.readPermissions(mailboxes, (done) => progress.push(done));
    expect(withPerms).toEqual(baseline.mailboxes);
    expect(logged(emu, { path: '/$batch' })).toHaveLength(2);
    expect(logged(emu, { cmdlet: 'Get-MailboxPermission' })).toHaveLength(0);
    expect(emu.stats().cmdlets['Get-MailboxPermission']?.requests).toBe(20);
    expect(progress).toHaveLength(20);
    expect(progress.at(-1)).toBe(20);
  });

  it('retries throttled sub-requests individually', async () => {
    emu.resetStats();
    emu.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-MailboxPermission', identity: 'finance@contoso.com', action: 'error', status: 429, times: 1 }] });
    const { client } = exchangeClient(emu, cfg);
    const withPerms = await client.readPermissions(await client.listMailboxes());
    expect(withPerms).toEqual(baseline.mailboxes);
    expect(logged(emu, { cmdlet: 'Get-MailboxPermission' })).toHaveLength(1);
  });

  it('records a 404 sub-response as that mailbox’s error without retrying it', async () => {
    const { client } = exchangeClient(emu, cfg);
    const ghost: Mailbox = { guid: '12345678-1234-4234-8234-123456789abc', displayName: 'Ghost', primarySmtpAddress: 'ghost@contoso.com', permissions: null };
    const [finance] = baseline.mailboxes;
    emu.resetStats();
    const out = await client.readPermissions([{ ...(finance as Mailbox), permissions: null }, ghost]);
    expect(out[0]?.permissions).toEqual(finance?.permissions);
    expect(out[1]?.permissions).toBeNull();
    expect(out[1]?.permissionError).toMatch(/^Get-MailboxPermission "12345678-1234-4234-8234-123456789abc" failed in \$batch: 404 — The operation couldn't be performed because object/);
    expect(emu.stats().cmdlets['Get-MailboxPermission']?.requests).toBe(2);
  });
});

describe('failures', () => {
  it.each([true, false])('a mailbox whose permission read fails for good gets permissions null (batch %s)', async (useBatch) => {
    emu.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-MailboxPermission', identity: 'finance@contoso.com', action: 'error', status: 500 }] });
    const { client } = exchangeClient(emu, cfg, { client: { useBatch }, http: { maxAttempts: 3 } });
    const out = await client.readPermissions(await client.listMailboxes());
    const finance = out.find((m) => m.primarySmtpAddress === 'finance@contoso.com') as Mailbox;
    expect(finance.permissions).toBeNull();
    expect(finance.permissionError).toMatch(/^POST https:\/\/127\.0\.0\.1:\d+\/adminapi\/beta\/[^/]+\/InvokeCommand \(Get-MailboxPermission\) failed: 500 Internal Server Error after 3 attempts/);
    expect(out.filter((m) => m.permissions === null)).toHaveLength(1);
    expect(out.filter((m) => m !== finance)).toEqual(baseline.mailboxes.filter((m) => m.primarySmtpAddress !== 'finance@contoso.com'));
  });

  it('never returns a partial listing: a failed user listing throws', async () => {
    emu.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-User', action: 'error', status: 503 }] });
    const { client } = exchangeClient(emu, cfg, { http: { maxAttempts: 4 } });
    await expect(client.listUsers()).rejects.toThrow(/^POST https:\/\/127\.0\.0\.1:\d+\/adminapi\/beta\/[^/]+\/InvokeCommand \(Get-User\) failed: 503 Service Unavailable after 4 attempts/);
  });

  it('never returns a partial listing: a failed second page throws', async () => {
    const small = await startEmulator({ options: { exchange: { maxPageSize: 5 } } });
    try {
      small.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-Mailbox', path: '$skiptoken', action: 'error', status: 500 }] });
      const c = configFor(small);
      const { client } = exchangeClient(small, c, { http: { maxAttempts: 2 } });
      await expect(readExchange(c, { exchange: client })).rejects.toThrow(/\?\$skiptoken=\S+ \(Get-Mailbox\) failed: 500 Internal Server Error after 2 attempts/);
    } finally {
      await small.stop();
    }
  });

  it('explains a 403 (app role but no Entra role)', async () => {
    const noRole = { getToken: async () => emu.mintToken({ directoryRoles: [] }) };
    const { client } = exchangeClient(emu, cfg, { auth: noRole as unknown as EntraAuth });
    await expect(client.listMailboxes()).rejects.toThrow(/\(Get-Mailbox\) failed: 403 Forbidden — .*Entra role/);
  });
});

describe('throttling and server errors', () => {
  it('yields the same snapshot through a 429 storm, 5xx bursts and resets', async () => {
    emu.setFaults({ randomFailRate: 0.3, randomFailStatuses: [429, 429, 500, 502, 503, 504], resetRate: 0.05, retryAfterSeconds: 0.01, seed: 7 });
    const { client, http } = exchangeClient(emu, cfg, { http: { maxAttempts: 15, maxConcurrency: 8, increaseAfter: 2 } });
    const snap = await readExchange(cfg, { exchange: client });
    expect(snap).toEqual(baseline);
    const s = http.stats();
    expect(s.throttled).toBeGreaterThan(0);
    expect(s.serverErrors).toBeGreaterThan(0);
    expect(s.failures).toBe(0);
  });

  it('backs off when the server allows little concurrency, and still reads everything', async () => {
    emu.setFaults({ concurrency: { exchange: 2 }, latencyMs: 5, retryAfterSeconds: 0.01 });
    const { client, http } = exchangeClient(emu, cfg, { client: { useBatch: false }, http: { maxAttempts: 30, maxConcurrency: 16, increaseAfter: 50 } });
    const snap = await readExchange(cfg, { exchange: client });
    expect(snap).toEqual(baseline);
    const s = http.stats();
    expect(s.throttled).toBeGreaterThan(0);
    expect(s.minConcurrencyLimit).toBeLessThanOrEqual(2);
  });
});

describe('group trustees', () => {
  it('resolves group trustees, expands nested groups, reads each group once', async () => {
    emu.resetStats();
    const { client } = exchangeClient(emu, cfg);
    const groups = await client.resolveGroups(['SG-HR-Team', 'sg-communicatie@contoso.com', 'Nobody-Knows-Me', 'anna.jansen@contoso.com']);
    expect(groups.map((g) => g.name)).toEqual(['SG-Communicatie', 'SG-HR-Managers', 'SG-HR-Team']);
    const team = groups.find((g) => g.name === 'SG-HR-Team');
    expect(team?.recipientTypeDetails).toBe('MailUniversalSecurityGroup');
    expect(team?.members?.map((m) => m.name ?? m.displayName)).toContain('SG-HR-Managers');
    expect(team?.members?.find((m) => m.recipientTypeDetails === 'MailUniversalSecurityGroup')?.guid).toBe(groups.find((g) => g.name === 'SG-HR-Managers')?.guid);
    expect(logged(emu, { cmdlet: 'Get-DistributionGroupMember' })).toHaveLength(3);
    // Asked again: nothing is read twice.
    await client.resolveGroups(['SG-HR-Team', 'SG-HR-Managers']);
    expect(logged(emu, { cmdlet: 'Get-DistributionGroupMember' })).toHaveLength(3);
  });

  it('survives a membership cycle', async () => {
    const fixture: TenantFixture = loadFixture(DEMO_FIXTURE);
    const managers = fixture.exchange?.groups?.find((g) => g.name === 'SG-HR-Managers');
    managers?.members?.push('SG-HR-Team');
    const cyc = await startEmulator({ fixture });
    try {
      const c = configFor(cyc);
      const { client } = exchangeClient(cyc, c);
      const groups = await client.resolveGroups(['SG-HR-Team', 'DL-Alle-Medewerkers']);
      expect(groups.map((g) => g.name)).toEqual(['DL-Alle-Medewerkers', 'SG-HR-Managers', 'SG-HR-Team']);
      expect(logged(cyc, { cmdlet: 'Get-DistributionGroupMember' })).toHaveLength(3);
    } finally {
      await cyc.stop();
    }
  });

  it('records a failed member read as members null, and a failed lookup as an unknown group', async () => {
    emu.setFaults({
      rules: [
        { service: 'exchange', cmdlet: 'Get-DistributionGroupMember', identity: 'SG-HR-Managers', action: 'error', status: 500 },
        { service: 'exchange', cmdlet: 'Get-Recipient', identity: 'SG-Communicatie', action: 'error', status: 503 },
      ],
    });
    const { client } = exchangeClient(emu, cfg, { http: { maxAttempts: 2 } });
    const groups = await client.resolveGroups(['SG-HR-Team', 'SG-Communicatie']);
    const managers = groups.find((g) => g.name === 'SG-HR-Managers');
    expect(managers?.members).toBeNull();
    expect(managers?.memberError).toMatch(/\(Get-DistributionGroupMember\) failed: 500 Internal Server Error after 2 attempts/);
    const comm = groups.find((g) => g.name === 'SG-Communicatie');
    expect(comm).toMatchObject({ recipientTypeDetails: 'Unknown', members: null });
    expect(comm?.memberError).toMatch(/\(Get-Recipient\) failed: 503/);
    expect(groups.find((g) => g.name === 'SG-HR-Team')?.members).not.toBeNull();
  });
});
