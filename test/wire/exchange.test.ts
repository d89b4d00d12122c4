/**
 * Wire conformance of the Exchange admin API client: one test per fact of
 * docs/wire-formats.md ("Exchange Online admin API") that the client depends on. Each runs
 * the real ExchangeClient over HTTPS against the emulator answering exactly that way, and
 * names the public source of the fact. Expectations are written by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFixture, type Emulator, type TenantFixture } from '../../src/emulator/index.js';
import { checkExchangeOnline, type EntraAuth } from '../../src/exchange/index.js';
import { closeSharedDispatchers } from '../../src/http/index.js';
import { configFor, DEMO_FIXTURE, exchangeClient, logged, startEmulator } from '../clients/helpers.js';

const NOT_FOUND_TYPE = 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException';

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.stop();
  await closeSharedDispatchers();
});

/** A throwaway emulator for one test (own options or fixture). */
async function withEmulator(opts: Parameters<typeof startEmulator>[0], run: (e: Emulator) => Promise<void>): Promise<void> {
  const e = await startEmulator(opts);
  try {
    await run(e);
  } finally {
    await e.stop();
  }
}

describe('empty results: value absent, null or []', () => {
  // graph2otel internal/exoclient/exoclient.go (all three seen live); CIPP-API
  // New-ExoRequest.ps1 copes with a null value.
  it.each(['absent', 'null', 'empty'] as const)('value %s is an empty list: empty group, filter matching nothing, $batch sub-response', async (emptyValue) => {
    const fixture: TenantFixture = loadFixture(DEMO_FIXTURE);
    // A mailbox without any permission row (not even NT AUTHORITY\SELF), listed first.
    fixture.exchange!.selfPermissionRows = false;
    fixture.exchange!.mailboxes!.unshift({ displayName: 'Leeg', primarySmtpAddress: 'leeg@contoso.com' });
    await withEmulator({ fixture, options: { exchange: { emptyValue } } }, async (e) => {
      const cfg = configFor(e);
      const { client } = exchangeClient(e, cfg);
      expect(await client.listMailboxes("DisplayName -eq 'Nothing'")).toEqual([]);
      const mailboxes = (await client.listMailboxes()).slice(0, 10);
      const read = await client.readPermissions(mailboxes);
      const leeg = read.find((m) => m.primarySmtpAddress === 'leeg@contoso.com');
      expect([leeg?.permissions, leeg?.permissionError]).toEqual([[], undefined]);
      // Read in $batch, not one by one.
      expect(logged(e, { cmdlet: 'Get-MailboxPermission' })).toHaveLength(0);
      const { groups } = await client.resolveGroups(['SG-Facilities-Invallers']);
      expect(groups.map((g) => [g.name, g.members, g.memberError])).toEqual([['SG-Facilities-Invallers', [], undefined]]);
    });
  });
});

describe('errors: 400 "Invalid Operation", the words in innererror / details', () => {
  // graph2otel internal/exoclient/errors.go (live captures).
  it('a failure shows the exception text and type, never the raw JSON body', async () => {
    const { client } = exchangeClient(emu, configFor(emu));
    const err = (await client.invokeCommand('Get-Mailbox', { Identity: 'nope@contoso.com' }).catch((x: unknown) => x)) as Error;
    expect(err.message).toMatch(
      /^POST https:\/\/127\.0\.0\.1:\d+\/adminapi\/beta\/[^/]+\/InvokeCommand \(Get-Mailbox\) failed: 400 Bad Request — The operation couldn't be performed because object 'nope@contoso\.com' couldn't be found on '[A-Z0-9.]+'\. \[Microsoft\.Exchange\.Configuration\.Tasks\.ManagementObjectNotFoundException\]$/,
    );
    expect(err.message).not.toContain('{');
    expect(err.message).not.toContain('Invalid Operation');
  });

  // graph2otel internal/exoclient/errors.go: details[0].message "|Type|text" when there is no innererror.
  it('reads details[0].message without its |Type| prefix when there is no innererror', async () => {
    emu.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-User', action: 'error', exception: 'System.InvalidOperationException', times: 1 }] });
    try {
      const { client } = exchangeClient(emu, configFor(emu));
      await expect(client.listUsers()).rejects.toThrow(/\(Get-User\) failed: 400 Bad Request — The operation failed \(injected fault\)\. \[System\.InvalidOperationException\]$/);
    } finally {
      emu.setFaults({ rules: [] });
    }
  });

  // graph2otel internal/exoclient/errors.go: not found is a 400 of type ManagementObjectNotFoundException.
  it('recognises not-found by the exception type on a 400: an unknown trustee is left out, not a failure', async () => {
    emu.resetStats();
    const { client } = exchangeClient(emu, configFor(emu));
    const { groups, failedLookups } = await client.resolveGroups(['Nobody-Knows-Me']);
    expect([groups, failedLookups]).toEqual([[], []]);
    expect(logged(emu, { cmdlet: 'Get-Recipient' }).map((x) => x.status)).toEqual([400]);
    expect(logged(emu, { cmdlet: 'Get-Group' }).map((x) => x.status)).toEqual([400]);
    // The body really is the documented envelope: its exception type is what the client read.
    const err = (await client.invokeCommand('Get-Recipient', { Identity: 'Nobody-Knows-Me' }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(`[${NOT_FOUND_TYPE}]`);
  });

  it('a 400 of any other exception type is a failed lookup, never "not found"', async () => {
    emu.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-Recipient', identity: 'SG-HR-Team', action: 'error', exception: 'System.InvalidOperationException' }] });
    try {
      const { client } = exchangeClient(emu, configFor(emu));
      const { groups, failedLookups } = await client.resolveGroups(['SG-HR-Team']);
      expect(groups).toEqual([]);
      expect(failedLookups.map((f) => f.identity)).toEqual(['SG-HR-Team']);
      expect(failedLookups[0]?.error).toContain('[System.InvalidOperationException]');
    } finally {
      emu.setFaults({ rules: [] });
    }
  });
});

describe('transient failures arrive as HTTP 400', () => {
  // jflieben/M365Permissions ExchangeRestClient.cs retries exactly these exception types.
  it.each(['ServerBusyException', 'TransientException', 'BackendCommunicationException', 'CmdletProxyNotAvailableFailure'])(
    '%s is retried with backoff, like a 503',
    async (exception) => {
      emu.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-Mailbox', action: 'error', exception, times: 2 }] });
      try {
        const { client, http } = exchangeClient(emu, configFor(emu));
        expect(await client.listMailboxes()).toHaveLength(20);
        expect(http.stats().retries).toBe(2);
      } finally {
        emu.setFaults({ rules: [] });
      }
    },
  );

  it('a transient 400 inside $batch is retried as a single call', async () => {
    emu.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-MailboxPermission', identity: 'finance@contoso.com', action: 'error', exception: 'ServerBusyException', times: 1 }] });
    try {
      emu.resetStats();
      const { client } = exchangeClient(emu, configFor(emu));
      const read = await client.readPermissions(await client.listMailboxes());
      expect(read.filter((m) => m.permissions === null)).toEqual([]);
      expect(logged(emu, { cmdlet: 'Get-MailboxPermission' }).map((x) => [x.identity, x.status])).toEqual([[expect.any(String), 200]]);
    } finally {
      emu.setFaults({ rules: [] });
    }
  });

  it('a random share of transient 400s (--transient-rate) still yields every mailbox and user', async () => {
    emu.setFaults({ transientRate: 0.3, seed: 3 });
    try {
      const { client, http } = exchangeClient(emu, configFor(emu), { http: { maxAttempts: 12 } });
      const mailboxes = await client.readPermissions(await client.listMailboxes());
      expect(mailboxes.filter((m) => m.permissions === null)).toEqual([]);
      expect(await client.listUsers()).toHaveLength(81);
      expect(http.stats().retries).toBeGreaterThan(0);
    } finally {
      emu.setFaults({ transientRate: 0 });
    }
  });
});

describe('paging and truncation', () => {
  // CIPP-API New-ExoRequest.ps1 follows @odata.nextLink with the same body; Prefer:
  // odata.maxpagesize is honoured (graph2otel).
  it('follows page links of an Unlimited listing, POSTing the same body', async () => {
    await withEmulator({ options: { exchange: { maxPageSize: 4 } } }, async (e) => {
      const { client } = exchangeClient(e, configFor(e));
      expect(await client.listMailboxes()).toHaveLength(20);
      expect(logged(e, { cmdlet: 'Get-Mailbox' }).map((x) => x.status)).toEqual([200, 200, 200, 200, 200]);
      expect(client.serviceWarnings).toEqual([]);
    });
  });

  // CIPP-API New-ExoRequest.ps1 sends InvokeCommand?$select=… (Invoke-ListMailboxes.ps1 with
  // Get-Mailbox) and follows the next links as given. That a link keeps the $select, and
  // that names match case-insensitively, is inferred.
  it('asks only for the properties it reads ($select), on every page, and still gets every field it maps', async () => {
    await withEmulator({ options: { exchange: { maxPageSize: 4 } } }, async (e) => {
      const { client } = exchangeClient(e, configFor(e));
      const users = await client.listUsers();
      const pages = logged(e, { cmdlet: 'Get-User' });
      expect(pages.length).toBeGreaterThan(1);
      for (const page of pages) expect(decodeURIComponent(page.path)).toContain('$select=UserPrincipalName,Name,DisplayName,ExternalDirectoryObjectId,Guid');
      const vincent = users.find((u) => u.userPrincipalName === 'vincent.leclercq@contoso.com');
      expect(vincent).toMatchObject({ name: 'Vincent Leclercq', displayName: 'Vincent Leclercq' });
      expect(vincent?.guid).toMatch(/^[0-9a-f-]{36}$/);
      expect(vincent?.externalDirectoryObjectId).toMatch(/^[0-9a-f-]{36}$/);
      const mailboxes = await client.listMailboxes();
      expect(mailboxes.find((m) => m.primarySmtpAddress === 'finance@contoso.com')).toMatchObject({ displayName: 'Finance', guid: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    });
  });

  // graph2otel (live-measured): a reply cut by ResultSize carries @adminapi.warnings and a
  // page link that cannot be followed.
  it('reads the one page of a ResultSize-limited call, ignores its link and keeps the warning', async () => {
    emu.resetStats();
    const { client } = exchangeClient(emu, configFor(emu));
    const users = await client.invokeCommand('Get-User', { ResultSize: 10 });
    expect(users).toHaveLength(10);
    expect(logged(emu, { cmdlet: 'Get-User' }).map((x) => x.status)).toEqual([200]);
    expect(client.serviceWarnings).toEqual([
      { cmdlet: 'Get-User', message: 'There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.' },
    ]);
  });

  it('without ResultSize the default of 1000 cuts the reply, with a warning', async () => {
    await withEmulator({ options: { exchange: { defaultResultSize: 5 } } }, async (e) => {
      const { client } = exchangeClient(e, configFor(e));
      expect(await client.invokeCommand('Get-User')).toHaveLength(5);
      expect(client.serviceWarnings.map((w) => w.message)).toEqual([
        'By default, only the first 5 items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify "-ResultSize Unlimited".',
      ]);
    });
  });

  // The same facts for `validate --online`: it must count any number of shared mailboxes.
  it('validate --online counts every shared mailbox in scope, however many pages', async () => {
    await withEmulator({ options: { exchange: { maxPageSize: 3 } } }, async (e) => {
      const cfg = configFor(e);
      const results = await checkExchangeOnline(cfg, { caPem: e.caPem });
      expect(results.map((r) => [r.service, r.ok])).toEqual([
        ['Entra ID token', true],
        ['Exchange Online', true],
      ]);
      expect(results[1]?.detail).toBe(`${e.url} answers; 20 shared mailboxes readable`);
      const filtered = await checkExchangeOnline(configFor(e, { mailboxFilter: "DisplayName -like 'Nothing*'" }), { caPem: e.caPem });
      expect(filtered[1]).toEqual({ service: 'Exchange Online', ok: false, detail: `${e.url} answers, but the app sees no shared mailboxes matching exchange.mailboxFilter "DisplayName -like 'Nothing*'"; plan would refuse to run` });
    });
  });
});

describe('$batch', () => {
  // CIPP-API New-ExoRequest.ps1 (and the module) send Prefer: odata.continue-on-error; without
  // it the service may stop at the first failed sub-request.
  it('asks to continue on error, so one failed sub-request does not fail the others', async () => {
    emu.resetStats();
    const { client } = exchangeClient(emu, configFor(emu));
    const mailboxes = await client.listMailboxes();
    const ghost = { guid: '12345678-1234-4234-8234-123456789abc', displayName: 'Ghost', primarySmtpAddress: 'ghost@contoso.com', permissions: null };
    const read = await client.readPermissions([ghost, ...mailboxes.slice(0, 9)]);
    expect(read.map((m) => m.permissions === null)).toEqual([true, false, false, false, false, false, false, false, false, false]);
    expect(logged(emu, { path: '$batch' })).toHaveLength(1);
    expect(logged(emu, { cmdlet: 'Get-MailboxPermission' })).toHaveLength(0);
  });

  // 424 Failed Dependency is how a batch reports sub-requests it did not run [inferred].
  it('a 424 sub-response falls back to a single call', async () => {
    emu.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-MailboxPermission', identity: 'hr@contoso.com', action: 'error', status: 424, times: 1 }] });
    try {
      emu.resetStats();
      const { client } = exchangeClient(emu, configFor(emu));
      const read = await client.readPermissions(await client.listMailboxes());
      expect(read.find((m) => m.primarySmtpAddress === 'hr@contoso.com')?.permissions?.map((p) => p.trustee)).toContain('SG-HR-Team');
      expect(logged(emu, { cmdlet: 'Get-MailboxPermission' })).toHaveLength(1);
    } finally {
      emu.setFaults({ rules: [] });
    }
  });
});

describe('authorization', () => {
  // docs/wire-formats.md "Authorization" (no source named there; inferred from live use):
  // Exchange.ManageAsApp without an Entra directory role → 403 whose body is NUL bytes.
  it('a 403 of NUL bytes says to assign an Entra role, and prints no NUL', async () => {
    const noRole = { getToken: async () => emu.mintToken({ directoryRoles: [] }) };
    const { client } = exchangeClient(emu, configFor(emu), { auth: noRole as unknown as EntraAuth });
    const err = (await client.listMailboxes().catch((x: unknown) => x)) as Error;
    expect(err.message).toMatch(/\(Get-Mailbox\) failed: 403 Forbidden — the app is not allowed to run this cmdlet in tenant [0-9a-f-]+; assign it an Entra role/);
    expect(err.message).not.toContain('\u0000');
  });

  it('the same from a fault rule (status 403)', async () => {
    emu.setFaults({ rules: [{ service: 'exchange', cmdlet: 'Get-User', action: 'error', status: 403 }] });
    try {
      const { client } = exchangeClient(emu, configFor(emu));
      const err = (await client.listUsers().catch((x: unknown) => x)) as Error;
      expect(err.message).toMatch(/403 Forbidden — the app is not allowed/);
      expect(err.message).not.toContain('\u0000');
    } finally {
      emu.setFaults({ rules: [] });
    }
  });
});

describe('trustees that are no recipient', () => {
  // michev.info, "Grant mailbox permissions to non-mail-enabled security groups"; Microsoft
  // Learn, Get-Recipient (mail-enabled objects only): Get-Recipient does not find such a
  // group, Get-Group does, with RecipientTypeDetails UniversalSecurityGroup and member names.
  it('a non-mail-enabled security group is found by Get-Group after Get-Recipient says not found', async () => {
    emu.resetStats();
    const { client } = exchangeClient(emu, configFor(emu));
    const { groups, failedLookups } = await client.resolveGroups(['GG-Archief-Beheer']);
    expect(failedLookups).toEqual([]);
    expect(groups.map((g) => [g.name, g.recipientTypeDetails, g.members])).toEqual([['GG-Archief-Beheer', 'UniversalSecurityGroup', [{ name: 'Tom De Wilde' }, { name: 'Vincent Leclercq' }]]]);
    expect(logged(emu, { cmdlet: 'Get-Recipient' }).map((x) => x.status)).toEqual([400]);
    expect(logged(emu, { cmdlet: 'Get-Group' }).map((x) => x.status)).toEqual([200]);
  });

  // Inferred from the same Get-Recipient fact: Get-DistributionGroupMember returns reduced
  // recipients, so a member that is no recipient (a security group that is not
  // mail-enabled, inside a mail-enabled security group synced from Active Directory) is
  // not among them, while Get-Group's Members names it. No live capture of this shape.
  describe('a mail-enabled security group holding a group that is not mail-enabled', () => {
    const synced = (): TenantFixture => {
      const fixture: TenantFixture = loadFixture(DEMO_FIXTURE);
      const hrTeam = fixture.exchange!.groups!.find((g) => g.name === 'SG-HR-Team')!;
      hrTeam.members = [...(hrTeam.members ?? []), 'GG-Archief-Beheer'];
      return fixture;
    };

    it('reads Get-Group too, and expands the member Get-DistributionGroupMember does not list', async () => {
      await withEmulator({ fixture: synced() }, async (e) => {
        const { client } = exchangeClient(e, configFor(e));
        const listed = (await client.invokeCommand('Get-DistributionGroupMember', { Identity: 'SG-HR-Team' })) as Array<{ Name: string }>;
        expect(listed.map((m) => m.Name)).toEqual(['Hanna Mulder', 'Ivo de Boer', 'SG-HR-Managers']);
        const { groups, failedLookups } = await client.resolveGroups(['SG-HR-Team']);
        expect(failedLookups).toEqual([]);
        const team = groups.find((g) => g.name === 'SG-HR-Team');
        expect(team?.members?.map((m) => [m.name, m.recipientTypeDetails])).toEqual([
          ['Hanna Mulder', 'UserMailbox'],
          ['Ivo de Boer', 'UserMailbox'],
          ['SG-HR-Managers', 'MailUniversalSecurityGroup'],
          ['GG-Archief-Beheer', 'UniversalSecurityGroup'],
        ]);
        expect(groups.find((g) => g.name === 'GG-Archief-Beheer')?.members).toEqual([{ name: 'Tom De Wilde' }, { name: 'Vincent Leclercq' }]);
      });
    });

    it('a distribution group is read with Get-DistributionGroupMember alone', async () => {
      await withEmulator({ fixture: synced() }, async (e) => {
        const { client } = exchangeClient(e, configFor(e));
        const { groups } = await client.resolveGroups(['DL-Alle-Medewerkers']);
        // Get-Group reads the security groups nested in it (by Guid), and looks up the name
        // only Get-Group listed; never the distribution group itself.
        const nameOf = new Map(groups.flatMap((g) => (g.guid ? [[g.guid, g.name] as const] : [])));
        const groupReads = logged(e, { cmdlet: 'Get-Group' }).map((x) => nameOf.get(x.identity ?? '') ?? x.identity);
        expect(groupReads.sort()).toEqual(['GG-Archief-Beheer', 'SG-HR-Managers', 'SG-HR-Team']);
      });
    });

    it('when that Get-Group fails, the group\u2019s members are unknown (core holds the removals)', async () => {
      await withEmulator({ fixture: synced(), faults: { rules: [{ service: 'exchange', cmdlet: 'Get-Group', identity: 'SG-HR-Team', action: 'error', status: 500 }] } }, async (e) => {
        const { client } = exchangeClient(e, configFor(e));
        const { groups } = await client.resolveGroups(['SG-HR-Team']);
        const team = groups.find((g) => g.name === 'SG-HR-Team');
        expect(team?.members).toBeNull();
        expect(team?.memberError).toMatch(/Get-Group/);
      });
    });
  });
});
