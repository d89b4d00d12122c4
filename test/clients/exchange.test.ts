/**
 * The Exchange admin API client against the emulator: paging under small server caps,
 * $batch, group expansion (nested, cyclic), throttling and 5xx storms, permanent
 * per-mailbox failures, expired page links, and fatal listing failures.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator, TenantFixture } from '../../src/emulator/index.js';
import { loadFixture } from '../../src/emulator/index.js';
import type { ExchangeSnapshot, Mailbox } from '../../src/core/types.js';
import { isEffectiveFullAccess, isSystemTrustee } from '../../src/core/index.js';
import { ExchangeApiError, type EntraAuth, type ExchangeClient } from '../../src/exchange/index.js';
import { closeSharedDispatchers, type HttpEvent } from '../../src/http/index.js';
import { configFor, DEMO_FIXTURE, exchangeClient, logged, startEmulator, type TestConfig } from './helpers.js';

let emu: Emulator;
let cfg: TestConfig;
let baseline: ExchangeSnapshot;

/**
 * The whole Exchange read through the client's phases, as the orchestrator (src/sync/read.ts)
 * calls them: mailboxes, permissions, users, then the trustees that are no user's UPN.
 */
async function readAll(client: ExchangeClient, expandGroups = true): Promise<ExchangeSnapshot> {
  const users = client.listUsers();
  users.catch(() => {});
  const mailboxes = await client.readPermissions(await client.listMailboxes());
  const upns = new Set((await users).map((u) => u.userPrincipalName.toLowerCase()));
  const trustees = new Set<string>();
  for (const m of mailboxes) {
    for (const row of m.permissions ?? []) {
      if (isEffectiveFullAccess(row) && !isSystemTrustee(row.trustee) && !upns.has(row.trustee.toLowerCase())) trustees.add(row.trustee);
    }
  }
  const { groups, failedLookups } = expandGroups ? await client.resolveGroups([...trustees].sort()) : { groups: [], failedLookups: [] };
  return { mailboxes, users: await users, groups, failedLookups, serviceWarnings: client.serviceWarnings };
}

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
  baseline = await readAll(exchangeClient(emu, cfg, { client: { useBatch: false } }).client);
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
    expect(baseline.groups.map((g) => g.name)).toEqual(['GG-Archief-Beheer', 'SG-Communicatie', 'SG-Facilities-Invallers', 'SG-HR-Managers', 'SG-HR-Team']);
    expect(baseline.failedLookups).toEqual([]);
    expect(baseline.serviceWarnings).toEqual([]);
    const finance = baseline.mailboxes.find((m) => m.primarySmtpAddress === 'finance@contoso.com') as Mailbox;
    expect(finance).toMatchObject({ displayName: 'Finance', alias: 'finance' });
    expect(finance.guid).toMatch(/^[0-9a-f-]{36}$/);
    expect(finance.permissions).toContainEqual({ trustee: 'anna.jansen@contoso.com', accessRights: ['FullAccess'], isInherited: false, deny: false });
  });
});

describe('whole read', () => {
  it('leaves groups unread when expansion is off', async () => {
    const snap = await readAll(exchangeClient(emu, cfg).client, false);
    expect(snap.groups).toEqual([]);
    expect(snap.mailboxes).toEqual(baseline.mailboxes);
  });
});

describe('paging', () => {
  it('follows every @odata.nextLink under a small server cap', async () => {
    const small = await startEmulator({ options: { exchange: { maxPageSize: 3 } } });
    try {
      const c = configFor(small);
      const snap = await readAll(exchangeClient(small, c).client);
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
      const err = (await client.listMailboxes().catch((e: unknown) => e)) as ExchangeApiError;
      expect(err).toBeInstanceOf(ExchangeApiError);
      expect(err.message).toMatch(/^POST https:\/\/127\.0\.0\.1:\d+\/adminapi\/beta\/[^/]+\/InvokeCommand\?\$select=…&\$skiptoken=\S+ \(Get-Mailbox\) failed: 400 Bad Request — Expired or Invalid pagination request/);
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

  it('records a not-found sub-response as that mailbox’s error without retrying it', async () => {
    const { client } = exchangeClient(emu, cfg);
    const ghost: Mailbox = { guid: '12345678-1234-4234-8234-123456789abc', displayName: 'Ghost', primarySmtpAddress: 'ghost@contoso.com', permissions: null };
    const [finance] = baseline.mailboxes;
    emu.resetStats();
    const out = await client.readPermissions([{ ...(finance as Mailbox), permissions: null }, ghost]);
    expect(out[0]?.permissions).toEqual(finance?.permissions);
    expect(out[1]?.permissions).toBeNull();
    expect(out[1]?.permissionError).toMatch(/^Get-MailboxPermission "12345678-1234-4234-8234-123456789abc" failed in \$batch: 400 — The operation couldn't be performed because object '12345678-1234-4234-8234-123456789abc' couldn't be found on '[A-Z0-9.]+'\. \[Microsoft\.Exchange\.Configuration\.Tasks\.ManagementObjectNotFoundException\]$/);
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
    await expect(client.listUsers()).rejects.toThrow(/^POST https:\/\/127\.0\.0\.1:\d+\/adminapi\/beta\/[^/]+\/InvokeCommand\?\$select=… \(Get-User\) failed: 503 Service Unavailable after 4 attempts/);
  });

  it('never returns a partial listing: a failed second page throws', async () => {
    const small = await startEmulator({ options: { exchange: { maxPageSize: 5 } } });
    try {
      small.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-Mailbox', path: '$skiptoken', action: 'error', status: 500 }] });
      const c = configFor(small);
      const { client } = exchangeClient(small, c, { http: { maxAttempts: 2 } });
      await expect(readAll(client)).rejects.toThrow(/&\$skiptoken=\S+ \(Get-Mailbox\) failed: 500 Internal Server Error after 2 attempts/);
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
    const snap = await readAll(client);
    expect(snap).toEqual(baseline);
    const s = http.stats();
    expect(s.throttled).toBeGreaterThan(0);
    expect(s.serverErrors).toBeGreaterThan(0);
    // The one request given up on: Get-Recipient 'GG-Archief-Beheer', not found (a security
    // group that is not mail-enabled, then found by Get-Group).
    expect(s.failures).toBe(1);
  });

  it('backs off when the server allows little concurrency, and still reads everything', async () => {
    emu.setFaults({ concurrency: { exchange: 2 }, latencyMs: 5, retryAfterSeconds: 0.01 });
    const { client, http } = exchangeClient(emu, cfg, { client: { useBatch: false }, http: { maxAttempts: 30, maxConcurrency: 16, increaseAfter: 50 } });
    const snap = await readAll(client);
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
    const { groups, failedLookups } = await client.resolveGroups(['SG-HR-Team', 'sg-communicatie@contoso.com', 'Nobody-Knows-Me', 'anna.jansen@contoso.com']);
    expect(groups.map((g) => g.name)).toEqual(['SG-Communicatie', 'SG-HR-Managers', 'SG-HR-Team']);
    expect(failedLookups).toEqual([]);
    const team = groups.find((g) => g.name === 'SG-HR-Team');
    expect(team?.recipientTypeDetails).toBe('MailUniversalSecurityGroup');
    expect(team?.members?.map((m) => m.name ?? m.displayName)).toContain('SG-HR-Managers');
    expect(team?.members?.find((m) => m.recipientTypeDetails === 'MailUniversalSecurityGroup')?.guid).toBe(groups.find((g) => g.name === 'SG-HR-Managers')?.guid);
    expect(logged(emu, { cmdlet: 'Get-DistributionGroupMember' })).toHaveLength(3);
    // Get-Recipient does not know 'Nobody-Knows-Me': Get-Group is asked, and does not either.
    // Each mail-enabled security group is also read with Get-Group (by Guid), for members
    // that are no recipient (test/wire/exchange.test.ts).
    const nameOf = new Map(groups.flatMap((g) => (g.guid ? [[g.guid, g.name] as const] : [])));
    expect(logged(emu, { cmdlet: 'Get-Group' }).map((e) => [nameOf.get(e.identity ?? '') ?? e.identity, e.status]).sort()).toEqual([
      ['Nobody-Knows-Me', 400],
      ['SG-Communicatie', 200],
      ['SG-HR-Managers', 200],
      ['SG-HR-Team', 200],
    ]);
    // Asked again: nothing is read twice.
    await client.resolveGroups(['SG-HR-Team', 'SG-HR-Managers']);
    expect(logged(emu, { cmdlet: 'Get-DistributionGroupMember' })).toHaveLength(3);
  });

  it('an empty mail-enabled group (no "value" in the reply) has no members, not an error', async () => {
    const { client } = exchangeClient(emu, cfg);
    const { groups } = await client.resolveGroups(['SG-Facilities-Invallers']);
    expect(groups).toEqual([
      expect.objectContaining({ name: 'SG-Facilities-Invallers', recipientTypeDetails: 'MailUniversalSecurityGroup', members: [] }),
    ]);
    expect(groups[0]?.memberError).toBeUndefined();
  });

  // michev.info, "Grant mailbox permissions to non-mail-enabled security groups": such a group
  // holds FullAccess; Get-Recipient does not find it, Get-Group does, with member names.
  it('finds a security group that is not mail-enabled through Get-Group, members by name', async () => {
    emu.resetStats();
    const { client } = exchangeClient(emu, cfg);
    const { groups, failedLookups } = await client.resolveGroups(['GG-Archief-Beheer']);
    expect(failedLookups).toEqual([]);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ name: 'GG-Archief-Beheer', recipientTypeDetails: 'UniversalSecurityGroup', members: [{ name: 'Tom De Wilde' }, { name: 'Vincent Leclercq' }] });
    expect(groups[0]?.guid).toMatch(/^[0-9a-f-]{36}$/);
    // Both names are users' Names (Get-User), so no member is looked up.
    expect(logged(emu, { cmdlet: 'Get-Group' })).toHaveLength(1);
    expect(logged(emu, { cmdlet: 'Get-DistributionGroupMember' })).toHaveLength(0);
    // And core can map them: Get-User's Name is on the users.
    const users = await client.listUsers();
    expect(users.find((u) => u.userPrincipalName === 'vincent.leclercq@contoso.com')?.name).toBe('Vincent Leclercq');
  });

  it('expands groups nested by name in a non-mail-enabled group, each read once, cycles cut', async () => {
    const fixture: TenantFixture = loadFixture(DEMO_FIXTURE);
    fixture.exchange?.groups?.push(
      { name: 'GG-Outer', type: 'security', mailEnabled: false, members: ['anna.jansen@contoso.com', 'GG-Inner', 'SG-HR-Managers', 'Ghost Member'] },
      { name: 'GG-Inner', type: 'security', mailEnabled: false, members: ['bram.devries@contoso.com', 'GG-Outer'] },
    );
    fixture.exchange?.users?.push({ upn: 'ghost@contoso.com', name: 'Ghost Member', recipientTypeDetails: 'User' });
    const nest = await startEmulator({ fixture });
    try {
      const { client } = exchangeClient(nest, configFor(nest));
      const { groups, failedLookups } = await client.resolveGroups(['GG-Outer']);
      expect(failedLookups).toEqual([]);
      expect(groups.map((g) => [g.name, g.recipientTypeDetails])).toEqual([
        ['GG-Inner', 'UniversalSecurityGroup'],
        ['GG-Outer', 'UniversalSecurityGroup'],
        ['SG-HR-Managers', 'MailUniversalSecurityGroup'],
      ]);
      const outer = groups.find((g) => g.name === 'GG-Outer');
      const inner = groups.find((g) => g.name === 'GG-Inner');
      const managers = groups.find((g) => g.name === 'SG-HR-Managers');
      expect(outer?.members).toEqual([
        { name: 'Anna Jansen' },
        { name: 'GG-Inner', displayName: 'GG-Inner', recipientTypeDetails: 'UniversalSecurityGroup', guid: inner?.guid, externalDirectoryObjectId: inner?.externalDirectoryObjectId },
        expect.objectContaining({ name: 'SG-HR-Managers', recipientTypeDetails: 'MailUniversalSecurityGroup', guid: managers?.guid }),
        { name: 'Ghost Member' },
      ]);
      expect(inner?.members?.map((m) => m.name)).toEqual(['Bram de Vries', 'GG-Outer']);
      expect(managers?.members?.map((m) => m.name)).toEqual(['Julia Bos', 'Koen Vos']);
      // GG-Outer by trustee, GG-Inner and SG-HR-Managers by member name; GG-Outer again (the
      // cycle) is answered from memory, and user names are never looked up. SG-HR-Managers,
      // mail-enabled, is read with Get-DistributionGroupMember beside the Get-Group that
      // found it, whose Members are not asked for again.
      expect(logged(nest, { cmdlet: 'Get-Group' }).map((e) => e.identity).sort()).toEqual(['GG-Inner', 'GG-Outer', 'SG-HR-Managers']);
      expect(logged(nest, { cmdlet: 'Get-DistributionGroupMember' })).toHaveLength(1);
    } finally {
      await nest.stop();
    }
  });

  it('survives a membership cycle', async () => {
    const fixture: TenantFixture = loadFixture(DEMO_FIXTURE);
    const managers = fixture.exchange?.groups?.find((g) => g.name === 'SG-HR-Managers');
    managers?.members?.push('SG-HR-Team');
    const cyc = await startEmulator({ fixture });
    try {
      const c = configFor(cyc);
      const { client } = exchangeClient(cyc, c);
      const { groups } = await client.resolveGroups(['SG-HR-Team', 'DL-Alle-Medewerkers']);
      expect(groups.map((g) => g.name)).toEqual(['DL-Alle-Medewerkers', 'SG-HR-Managers', 'SG-HR-Team']);
      expect(logged(cyc, { cmdlet: 'Get-DistributionGroupMember' })).toHaveLength(3);
    } finally {
      await cyc.stop();
    }
  });

  it('records a failed member read as members null, and a failed lookup as a FailedLookup, never a group', async () => {
    emu.setFaults({
      rules: [
        { service: 'exchange', cmdlet: 'Get-DistributionGroupMember', identity: 'SG-HR-Managers', action: 'error', status: 500 },
        { service: 'exchange', cmdlet: 'Get-Recipient', identity: 'SG-Communicatie', action: 'error', status: 503 },
      ],
    });
    const { client } = exchangeClient(emu, cfg, { http: { maxAttempts: 2 } });
    const { groups, failedLookups } = await client.resolveGroups(['SG-HR-Team', 'SG-Communicatie']);
    const managers = groups.find((g) => g.name === 'SG-HR-Managers');
    expect(managers?.members).toBeNull();
    expect(managers?.memberError).toMatch(/\(Get-DistributionGroupMember\) failed: 500 Internal Server Error after 2 attempts/);
    expect(groups.map((g) => g.name)).toEqual(['SG-HR-Managers', 'SG-HR-Team']);
    expect(failedLookups).toEqual([{ identity: 'SG-Communicatie', error: expect.stringMatching(/\(Get-Recipient\) failed: 503 Service Unavailable after 2 attempts/) }]);
    expect(groups.find((g) => g.name === 'SG-HR-Team')?.members).not.toBeNull();
  });

  it('keeps a failed lookup apart from a resolved group of the same name', async () => {
    // 'SG-HR-Managers' as a trustee fails; the same group is still resolved through SG-HR-Team.
    emu.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-Recipient', identity: 'SG-HR-Managers', action: 'error', status: 503 }] });
    const { client } = exchangeClient(emu, cfg, { http: { maxAttempts: 2 } });
    const { groups, failedLookups } = await client.resolveGroups(['SG-HR-Managers', 'SG-HR-Team']);
    expect(groups.map((g) => [g.name, g.recipientTypeDetails, g.members?.length])).toEqual([
      ['SG-HR-Managers', 'MailUniversalSecurityGroup', 2],
      ['SG-HR-Team', 'MailUniversalSecurityGroup', 3],
    ]);
    expect(failedLookups.map((f) => f.identity)).toEqual(['SG-HR-Managers']);
  });

  it('a member name whose Get-Group lookup fails is a FailedLookup and stays a plain name member', async () => {
    const fixture: TenantFixture = loadFixture(DEMO_FIXTURE);
    fixture.exchange?.groups?.push({ name: 'GG-Outer', type: 'security', mailEnabled: false, members: ['anna.jansen@contoso.com', 'SG-HR-Managers'] });
    const f = await startEmulator({ fixture });
    try {
      f.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-Group', identity: 'SG-HR-Managers', action: 'error', status: 503 }] });
      const { client } = exchangeClient(f, configFor(f), { http: { maxAttempts: 2 } });
      const { groups, failedLookups } = await client.resolveGroups(['GG-Outer']);
      expect(groups.map((g) => g.name)).toEqual(['GG-Outer']);
      expect(groups[0]?.members).toEqual([{ name: 'Anna Jansen' }, { name: 'SG-HR-Managers' }]);
      expect(failedLookups).toEqual([{ identity: 'SG-HR-Managers', error: expect.stringMatching(/\(Get-Group\) failed: 503 Service Unavailable after 2 attempts/) }]);
    } finally {
      await f.stop();
    }
  });
});
