/**
 * Exchange admin API contract against the demo tenant: the InvokeCommand envelope,
 * every cmdlet's shape and casing, identity lookup, OPATH filters, paging, ResultSize,
 * $batch, and the auth and error replies of docs/wire-formats.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Emulator } from '../../src/emulator/index.js';
import { Client, DEMO_FIXTURE } from './helpers.js';

let emu: Emulator;
let c: Client;
/** Same tenant, the alternative wire shapes and a tiny page cap / default ResultSize. */
let alt: Emulator;
let ca: Client;

beforeAll(async () => {
  [emu, alt] = await Promise.all([
    start({ fixture: DEMO_FIXTURE }),
    start({
      fixture: DEMO_FIXTURE,
      options: {
        exchange: { booleanStyle: 'string', permissionRowStyle: 'permissionList', accessRightsStyle: 'string', memberUpn: true, maxPageSize: 7, defaultResultSize: 15 },
      },
    }),
  ]);
  c = new Client(emu);
  ca = new Client(alt);
});

afterAll(async () => {
  await Promise.all([c?.close(), ca?.close()]);
  await Promise.all([emu?.stop(), alt?.stop()]);
});

const MAILBOX_KEYS = ['DisplayName', 'Name', 'Alias', 'Identity', 'UserPrincipalName', 'PrimarySmtpAddress', 'RecipientTypeDetails', 'ExternalDirectoryObjectId', 'Guid'];
const NOT_FOUND_TYPE = 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException';
const NOT_FOUND_TEXT = /^The operation couldn't be performed because object '(.+)' couldn't be found on '[A-Z0-9.]+'\.$/;
/** The NUL-byte body of a 403 (docs/wire-formats.md, "Authorization"). */
const NULS = '\u0000'.repeat(64);

describe('InvokeCommand', () => {
  it('Get-Mailbox SharedMailbox/Unlimited: envelope, documented casing, 20 shared mailboxes', async () => {
    const r = await c.exo('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox', ResultSize: 'Unlimited' }, { headers: { Prefer: 'odata.maxpagesize=1000' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(r.json)).toEqual(['@odata.context', '@adminapi.warnings', 'value']);
    expect(r.json['@adminapi.warnings']).toEqual([]);
    expect(r.json.value).toHaveLength(20);
    for (const m of r.json.value) {
      expect(Object.keys(m)).toEqual(MAILBOX_KEYS);
      expect(m.RecipientTypeDetails).toBe('SharedMailbox');
    }
    const cafe = r.json.value.find((m: { Alias: string }) => m.Alias === 'cafe.bestellingen');
    expect(cafe).toMatchObject({ DisplayName: 'Café Bestellingen', Name: 'Café Bestellingen', Identity: 'Café Bestellingen', PrimarySmtpAddress: 'cafe.bestellingen@contoso.com', UserPrincipalName: 'cafe.bestellingen@contoso.com' });
    expect(cafe.Guid).toMatch(/^[0-9a-f-]{36}$/);
    expect(cafe.ExternalDirectoryObjectId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['x-concurrencycount']).toBeDefined();
    expect(r.headers['rate-limit-remaining']).toBeDefined();
  });

  it('Get-Mailbox without RecipientTypeDetails also lists user and room mailboxes; RTD lists and arrays filter', async () => {
    const all = await c.exo('Get-Mailbox', { ResultSize: 'Unlimited' });
    expect(all.json.value).toHaveLength(81);
    const rooms = await c.exo('Get-Mailbox', { RecipientTypeDetails: ['RoomMailbox'], ResultSize: 'Unlimited' });
    expect(rooms.json.value.map((m: { DisplayName: string }) => m.DisplayName)).toEqual(['Vergaderzaal Amsterdam']);
    const two = await c.exo('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox,RoomMailbox', ResultSize: 'Unlimited' });
    expect(two.json.value).toHaveLength(21);
  });

  it('looks identities up by guid, name, alias, SMTP, UPN and display name, case-insensitively', async () => {
    const base = (await c.exo('Get-Mailbox', { Identity: 'finance@contoso.com' })).json.value[0];
    for (const id of [base.Guid, base.ExternalDirectoryObjectId, 'FINANCE', 'finance', 'Finance@Contoso.com', base.UserPrincipalName.toUpperCase(), 'Finance']) {
      const r = await c.exo('Get-Mailbox', { Identity: id });
      expect([id, r.status, r.json.value[0].Guid]).toEqual([id, 200, base.Guid]);
    }
    const accented = await c.exo('Get-Mailbox', { Identity: 'café bestellingen' });
    expect(accented.json.value[0].Alias).toBe('cafe.bestellingen');
  });

  // graph2otel internal/exoclient/errors.go: every cmdlet failure, "not found" included, is a
  // 400 with the "Invalid Operation" envelope and the exception in details and innererror.
  it('NotFound → 400 with the ManagementObjectNotFoundException envelope, exactly', async () => {
    for (const [cmdlet, params] of [
      ['Get-MailboxPermission', { Identity: 'nope@contoso.com' }],
      ['Get-Mailbox', { Identity: 'nope@contoso.com' }],
      ['Get-DistributionGroupMember', { Identity: 'nope@contoso.com', ResultSize: 'Unlimited' }],
      ['Get-Recipient', { Identity: 'nope@contoso.com' }],
      ['Get-Group', { Identity: 'nope@contoso.com' }],
    ] as const) {
      const r = await c.exo(cmdlet, params);
      expect(r.status).toBe(400);
      expect(Object.keys(r.json)).toEqual(['error']);
      expect(Object.keys(r.json.error)).toEqual(['code', 'message', 'details', 'innererror']);
      expect(r.json.error.code).toBe('BadRequest');
      expect(r.json.error.message).toBe('Invalid Operation');
      expect(r.json.error.details).toHaveLength(1);
      expect(r.json.error.details[0].code).toBe('Client');
      const [, type, text] = /^\|([^|]+)\|(.*)$/.exec(r.json.error.details[0].message)!;
      expect(type).toBe(NOT_FOUND_TYPE);
      expect(NOT_FOUND_TEXT.exec(text!)![1]).toBe('nope@contoso.com');
      expect(r.json.error.innererror).toEqual({ internalexception: { message: text, type: NOT_FOUND_TYPE } });
    }
    // A user mailbox is not a group.
    const notGroup = await c.exo('Get-DistributionGroupMember', { Identity: 'anna.jansen@contoso.com' });
    expect(notGroup.status).toBe(400);
    expect(notGroup.json.error.innererror.internalexception.type).toBe(NOT_FOUND_TYPE);
  });

  // michev.info (non-mail-enabled security groups) and Microsoft Learn, Get-Recipient
  // (mail-enabled objects only): such a group is known to Get-Group alone.
  it('a security group that is not mail-enabled: Get-Group finds it, Get-Recipient and Get-DistributionGroupMember do not', async () => {
    const grp = await c.exo('Get-Group', { Identity: 'GG-Archief-Beheer' });
    expect(grp.status).toBe(200);
    expect(grp.json.value).toEqual([
      expect.objectContaining({ Name: 'GG-Archief-Beheer', RecipientTypeDetails: 'UniversalSecurityGroup', GroupType: 'Universal, SecurityEnabled', WindowsEmailAddress: '', Members: ['Tom De Wilde', 'Vincent Leclercq'] }),
    ]);
    for (const cmdlet of ['Get-Recipient', 'Get-DistributionGroupMember']) {
      const r = await c.exo(cmdlet, { Identity: 'GG-Archief-Beheer' });
      expect([cmdlet, r.status, r.json.error.innererror.internalexception.type]).toEqual([cmdlet, 400, NOT_FOUND_TYPE]);
    }
    const all = await c.exoAll('Get-Recipient', { ResultSize: 'Unlimited' });
    expect(all.items.map((x) => x.Name)).not.toContain('GG-Archief-Beheer');
  });

  // graph2otel internal/exoclient/exoclient.go: an empty result may come without `value`.
  it('an empty result has no value: an empty group, a filter that matches nothing', async () => {
    const members = await c.exo('Get-DistributionGroupMember', { Identity: 'SG-Facilities-Invallers', ResultSize: 'Unlimited' });
    expect(members.status).toBe(200);
    expect(Object.keys(members.json)).toEqual(['@odata.context', '@adminapi.warnings']);
    const none = await c.exo('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox', Filter: "DisplayName -eq 'Nothing'", ResultSize: 'Unlimited' });
    expect(none.status).toBe(200);
    expect(none.json).not.toHaveProperty('value');
  });

  it('Get-MailboxPermission rows: documented columns, SELF, SID, Deny, inherited, ReadPermission', async () => {
    const rows = async (id: string) => (await c.exo('Get-MailboxPermission', { Identity: id })).json.value as Record<string, unknown>[];
    const sales = await rows('sales@contoso.com');
    expect(sales[0]).toEqual({ Identity: 'Sales', User: 'NT AUTHORITY\\SELF', AccessRights: ['FullAccess', 'ReadPermission'], IsInherited: false, Deny: false, InheritanceType: 'All' });
    for (const r of sales) expect(Object.keys(r)).toEqual(['Identity', 'User', 'AccessRights', 'IsInherited', 'Deny', 'InheritanceType']);
    expect(sales.map((r) => r.User)).toEqual(['NT AUTHORITY\\SELF', 'lisa.dekker@contoso.com', 'milan.hendriks@contoso.com', 'S-1-5-21-3623811015-3361044348-30300820-1013']);
    expect((await rows('projects@contoso.com')).find((r) => r.User === 'wouter.dekker@contoso.com')).toMatchObject({ Deny: true, AccessRights: ['FullAccess'] });
    const helpdesk = await rows('IT Helpdesk');
    expect(helpdesk.filter((r) => r.IsInherited === true).map((r) => r.User)).toEqual(['zoe.verhoeven@contoso.com', 'EURPR01A001\\Organization Management']);
    expect((await rows('reception')).find((r) => r.User === 'bas.schouten@contoso.com')!.AccessRights).toEqual(['ReadPermission']);
    expect((await rows('hr@contoso.com')).map((r) => r.User)).toContain('SG-HR-Team');
    // User= narrows the rows.
    const one = await c.exo('Get-MailboxPermission', { Identity: 'sales@contoso.com', User: 'LISA.DEKKER@contoso.com' });
    expect(one.json.value).toHaveLength(1);
  });

  it('booleanStyle string, permissionRowStyle permissionList, accessRightsStyle string', async () => {
    const r = await ca.exo('Get-MailboxPermission', { Identity: 'projects@contoso.com' });
    const deny = r.json.value.find((x: { User: string }) => x.User === 'wouter.dekker@contoso.com');
    expect(deny).toEqual({
      Identity: 'Projects',
      User: 'wouter.dekker@contoso.com',
      PermissionList: [{ AccessRights: 'FullAccess', IsInherited: 'False', Deny: 'True', InheritanceType: 'All' }],
    });
  });

  it('Get-User, Get-Recipient, Get-Group', async () => {
    const users = await c.exoAll('Get-User', { ResultSize: 'Unlimited' });
    expect(users.items).toHaveLength(81);
    const anna = users.items.find((u) => u.UserPrincipalName === 'anna.jansen@contoso.com')!;
    expect(Object.keys(anna)).toEqual(['UserPrincipalName', 'DisplayName', 'Name', 'Identity', 'RecipientTypeDetails', 'ExternalDirectoryObjectId', 'Guid']);
    expect(anna).toMatchObject({ DisplayName: 'Anna Jansen', RecipientTypeDetails: 'UserMailbox' });
    expect(users.items.find((u) => u.UserPrincipalName === 'finance@contoso.com')!.RecipientTypeDetails).toBe('SharedMailbox');

    const rec = await c.exo('Get-Recipient', { Identity: 'SG-HR-Team' });
    expect(rec.json.value).toEqual([
      expect.objectContaining({ Name: 'SG-HR-Team', DisplayName: 'SG HR Team', PrimarySmtpAddress: 'sg-hr-team@contoso.com', RecipientTypeDetails: 'MailUniversalSecurityGroup' }),
    ]);
    expect((await c.exo('Get-Recipient', { Identity: 'renee.dubois@contoso.com' })).json.value[0].DisplayName).toBe('Renée Dubois');
    const recAll = await c.exoAll('Get-Recipient', { ResultSize: 'Unlimited' });
    // 60 users + 21 mailboxes + 5 mail-enabled groups (the non-mail-enabled one is no recipient).
    expect(recAll.items).toHaveLength(86);
    const grp = await c.exo('Get-Group', { Identity: 'sg-hr-team@contoso.com' });
    expect(grp.json.value[0]).toMatchObject({ Name: 'SG-HR-Team', RecipientTypeDetails: 'MailUniversalSecurityGroup', Members: ['Hanna Mulder', 'Ivo de Boer', 'SG-HR-Managers'] });
    expect((await c.exo('Get-Group', {})).json.value).toHaveLength(6);
  });

  it('Get-DistributionGroupMember: reduced recipients without UPN (unless memberUpn), nested group visible', async () => {
    const r = await c.exo('Get-DistributionGroupMember', { Identity: 'SG-HR-Team', ResultSize: 'Unlimited' });
    expect(r.status).toBe(200);
    expect(r.json.value.map((m: { Name: string; RecipientTypeDetails: string }) => [m.Name, m.RecipientTypeDetails])).toEqual([
      ['Hanna Mulder', 'UserMailbox'],
      ['Ivo de Boer', 'UserMailbox'],
      ['SG-HR-Managers', 'MailUniversalSecurityGroup'],
    ]);
    for (const m of r.json.value) {
      expect(m).not.toHaveProperty('UserPrincipalName');
      for (const k of ['Name', 'Alias', 'DisplayName', 'PrimarySmtpAddress', 'RecipientTypeDetails', 'Guid', 'ExternalDirectoryObjectId']) expect(m).toHaveProperty(k);
    }
    // Members map to Get-User rows by ExternalDirectoryObjectId.
    const hanna = (await c.exo('Get-User', { Identity: 'hanna.mulder@contoso.com' })).json.value[0];
    expect(r.json.value[0].ExternalDirectoryObjectId).toBe(hanna.ExternalDirectoryObjectId);
    expect(r.json.value[0].Guid).toBe(hanna.Guid);
    const withUpn = await ca.exo('Get-DistributionGroupMember', { Identity: 'SG-HR-Managers', ResultSize: 'Unlimited' });
    expect(withUpn.json.value.map((m: { UserPrincipalName: string }) => m.UserPrincipalName)).toEqual(['julia.bos@contoso.com', 'koen.vos@contoso.com']);
  });
});

describe('OPATH filters', () => {
  const names = async (filter: string) => {
    const r = await c.exo('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox', Filter: filter, ResultSize: 'Unlimited' });
    expect(r.status, `${filter}: ${r.text}`).toBe(200);
    return ((r.json.value ?? []) as { DisplayName: string }[]).map((m) => m.DisplayName).sort();
  };

  it.each([
    ["DisplayName -like 'Café*'", ['Café Bestellingen']],
    ["DisplayName -eq 'finance'", ['Finance']],
    ['Alias -eq "hr"', ['HR']],
    ["Name -like '*ser*'", ['Klantenservice']],
    ["(Name -eq 'HR') -or (Name -eq 'Legal')", ['HR', 'Legal']],
    ["DisplayName -like 'S*' -and PrimarySmtpAddress -notlike 'sales@*'", ['Salarisadministratie', 'Support']],
    ["-not (DisplayName -like '*e*') -and DisplayName -ne 'HR'", ['Inkoop', 'Support']],
    ["DisplayName -like 'Werving*' -or UserPrincipalName -eq 'ARCHIEF@contoso.com'", ['Archief', 'Werving & Selectie']],
    ["DisplayName -eq 'O''Brien'", []],
    // Aliases without an "a".
    [
      "PrimarySmtpAddress -like '*@contoso.com' -and -not(Alias -like '*a*')",
      ['Bestuur', 'Events', 'HR', 'IT Helpdesk', 'Inkoop', 'Logistiek', 'Projects', 'Reception', 'Support', 'Werving & Selectie'],
    ],
  ])('%s', async (filter, expected) => {
    expect(await names(filter)).toEqual(expected);
  });

  it.each([
    "DisplayName -gt 'A'",
    "Department -eq 'Sales'",
    "DisplayName -like",
    'DisplayName -eq $null',
    "(DisplayName -eq 'x'",
    "DisplayName -eq 'x' garbage",
    "DisplayName -like 'unterminated",
  ])('unsupported: %s → 400 error shape', async (filter) => {
    const r = await c.exo('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox', Filter: filter, ResultSize: 'Unlimited' });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('BadRequest');
    expect(r.json.error.message).toBe('Invalid Operation');
    expect(r.json.error.details[0].message).toContain("Cannot bind parameter 'Filter'");
    expect(r.json.error.innererror.internalexception.type).toBe('Microsoft.Exchange.Management.Tasks.OPathFilterException');
  });
});

describe('paging and ResultSize', () => {
  it('follows @odata.nextLink (absolute URL, same body) honouring Prefer: odata.maxpagesize', async () => {
    const { pages, items } = await c.exoAll('Get-User', { ResultSize: 'Unlimited' }, { Prefer: 'odata.maxpagesize=25' });
    expect(pages.map((p) => p.json.value.length)).toEqual([25, 25, 25, 6]);
    expect(new Set(items.map((u) => u.Guid)).size).toBe(81);
    const link = pages[0]!.json['@odata.nextLink'] as string;
    expect(link).toMatch(new RegExp(`^${emu.url}/adminapi/beta/${emu.tenantId}/InvokeCommand\\?\\$skiptoken=[A-Za-z0-9_-]+$`));
    // A link is reusable (a client may retry a page) but bound to its query.
    const again = await c.exo('Get-User', { ResultSize: 'Unlimited' }, { url: link, headers: { Prefer: 'odata.maxpagesize=25' } });
    expect(again.json.value).toEqual(pages[1]!.json.value);
    const other = await c.exo('Get-Mailbox', { ResultSize: 'Unlimited' }, { url: link });
    expect(other.status).toBe(400);
    expect(other.json.error.message).toContain('Expired or Invalid pagination request');
    const bogus = await c.exo('Get-User', { ResultSize: 'Unlimited' }, { url: `${emu.url}/adminapi/beta/${emu.tenantId}/InvokeCommand?$skiptoken=nope` });
    expect(bogus.status).toBe(400);
  });

  it('caps the page size server-side (fewer items than asked)', async () => {
    const { pages, items } = await ca.exoAll('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox', ResultSize: 'Unlimited' }, { Prefer: 'odata.maxpagesize=1000' });
    expect(pages.map((p) => p.json.value.length)).toEqual([7, 7, 6]);
    expect(items).toHaveLength(20);
  });

  // graph2otel (live-measured): a reply cut by ResultSize, or by the default of 1000, carries
  // a non-empty @adminapi.warnings and an @odata.nextLink that cannot be followed.
  it('a reply cut by ResultSize: one page, a warning, and a link that cannot be followed', async () => {
    const ten = await c.exo('Get-User', { ResultSize: 10 });
    expect(ten.json.value).toHaveLength(10);
    expect(ten.json['@adminapi.warnings']).toEqual(['There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.']);
    const link = ten.json['@odata.nextLink'] as string;
    expect(link).toMatch(/InvokeCommand\?\$skiptoken=/);
    const next = await c.exo('Get-User', { ResultSize: 10 }, { url: link });
    expect(next.status).toBe(400);
    expect(next.json.error.message).toBe('Expired or Invalid pagination request. Default Expiry time is 00:30:00');
    // Exactly ResultSize objects: nothing was cut, no warning, no link.
    const all = await c.exo('Get-User', { ResultSize: 81 });
    expect([all.json.value.length, all.json['@adminapi.warnings'], all.json['@odata.nextLink']]).toEqual([81, [], undefined]);
    expect((await c.exoAll('Get-User', { ResultSize: 'unlimited' })).items).toHaveLength(81);
  });

  it('applies the default ResultSize when none is sent, with a warning (cut at the page size too)', async () => {
    const r = await ca.exo('Get-User', {});
    expect(r.json.value).toHaveLength(7);
    expect(r.json['@adminapi.warnings'][0]).toMatch(/only the first 15 items are returned/);
    const next = await ca.exo('Get-User', {}, { url: r.json['@odata.nextLink'] });
    expect(next.status).toBe(400);
  });
});

describe('$batch', () => {
  const batchUrl = () => `/adminapi/beta/${emu.tenantId}/$batch`;
  const sub = (id: string, identity: string, url: string) => ({
    id,
    method: 'POST',
    url,
    headers: { 'Content-Type': 'application/json', Prefer: 'odata.maxpagesize=1000' },
    body: { CmdletInput: { CmdletName: 'Get-MailboxPermission', Parameters: { Identity: identity } } },
  });

  it('runs up to 10 InvokeCommand sub-requests (absolute or relative URLs)', async () => {
    const token = await c.token();
    const r = await c.call('POST', batchUrl(), {
      headers: { authorization: `Bearer ${token}` },
      body: {
        requests: [
          sub('1', 'finance@contoso.com', `${emu.url}/adminapi/beta/${emu.tenantId}/InvokeCommand`),
          sub('2', 'hr@contoso.com', 'InvokeCommand'),
          sub('3', 'nope@contoso.com', `/adminapi/beta/${emu.tenantId}/InvokeCommand`),
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['responses']);
    const [a, b, nf] = r.json.responses;
    expect([a.id, a.status, b.id, b.status, nf.id, nf.status]).toEqual(['1', 200, '2', 200, '3', 400]);
    expect(a.body.value.map((x: { User: string }) => x.User)).toContain('bram.devries@contoso.com');
    expect(b.body.value.map((x: { User: string }) => x.User)).toContain('SG-HR-Team');
    expect(nf.body.error.innererror.internalexception.type).toBe(NOT_FOUND_TYPE);
    expect(emu.stats().cmdlets['Get-MailboxPermission']!.requests).toBeGreaterThanOrEqual(3);
  });

  // docs/wire-formats.md ($batch; the module and CIPP-API New-ExoRequest.ps1 send the
  // preference): without odata.continue-on-error the service may stop at the first failure.
  it('stops at the first failed sub-request (424 for the rest) unless asked to continue on error', async () => {
    const token = await c.token();
    const requests = [sub('1', 'nope@contoso.com', 'InvokeCommand'), sub('2', 'finance@contoso.com', 'InvokeCommand'), sub('3', 'hr@contoso.com', 'InvokeCommand')];
    const stop = await c.call('POST', batchUrl(), { headers: { authorization: `Bearer ${token}` }, body: { requests } });
    expect(stop.json.responses.map((r: { status: number }) => r.status)).toEqual([400, 424, 424]);
    const go = await c.call('POST', batchUrl(), { headers: { authorization: `Bearer ${token}`, Prefer: 'odata.continue-on-error' }, body: { requests } });
    expect(go.json.responses.map((r: { status: number }) => r.status)).toEqual([400, 200, 200]);
  });

  it('more than 10 → 400; no token → 401', async () => {
    const token = await c.token();
    const requests = Array.from({ length: 11 }, (_, i) => sub(String(i), 'finance@contoso.com', 'InvokeCommand'));
    const r = await c.call('POST', batchUrl(), { headers: { authorization: `Bearer ${token}` }, body: { requests } });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/exceeds the limit of 10/);
    const anon = await c.call('POST', batchUrl(), { body: { requests: requests.slice(0, 2) } });
    expect(anon.status).toBe(401);
  });
});

describe('auth and request errors', () => {
  it('missing, invalid, expired, wrong-tenant tokens → 401 with WWW-Authenticate', async () => {
    const cases: [string, string | null][] = [
      ['missing', null],
      ['garbage', 'not.a.jwt'],
      ['expired', emu.mintToken({ lifetimeSeconds: -10 })],
      ['other tenant', emu.mintToken({ tenantId: '00000000-0000-4000-8000-0000000000ff' })],
      ['no app role', emu.mintToken({ roles: [] })],
      ['graph audience', emu.mintToken({ resource: 'https://graph.microsoft.com' })],
      ['other emulator', alt.mintToken()],
    ];
    for (const [why, token] of cases) {
      const r = await c.exo('Get-Mailbox', {}, { token });
      expect([why, r.status, r.text]).toEqual([why, 401, '']);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer /);
    }
    // A path naming another tenant, with a valid token of ours.
    const r = await c.exo('Get-Mailbox', {}, { url: '/adminapi/beta/00000000-0000-4000-8000-0000000000ff/InvokeCommand' });
    expect(r.status).toBe(401);
    // The organization domain works as the tenant path segment.
    expect((await c.exo('Get-Mailbox', { Identity: 'hr' }, { url: '/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand' })).status).toBe(200);
  });

  it('app role without a directory role, and an unknown cmdlet → 403 with a body of NUL bytes', async () => {
    const noRole = await c.exo('Get-Mailbox', {}, { token: emu.mintToken({ directoryRoles: [] }) });
    expect([noRole.status, noRole.text]).toEqual([403, NULS]);
    const unknown = await c.exo('Set-Mailbox', { Identity: 'hr' });
    expect([unknown.status, unknown.text]).toEqual([403, NULS]);
  });

  it('null Parameters, unknown parameters, bad ResultSize or RecipientTypeDetails → 400 error shape', async () => {
    const token = await c.token();
    const nullParams = await c.call('POST', `/adminapi/beta/${emu.tenantId}/InvokeCommand`, {
      headers: { authorization: `Bearer ${token}` },
      body: { CmdletInput: { CmdletName: 'Get-Mailbox', Parameters: null } },
    });
    expect(nullParams.status).toBe(400);
    expect(nullParams.json.error.message).toMatch(/Parameters/);
    for (const params of [{ Identiti: 'x' }, { ResultSize: 'lots' }, { RecipientTypeDetails: 'Shared' }]) {
      const r = await c.exo('Get-Mailbox', params);
      expect(r.status).toBe(400);
      expect(r.json.error.details[0].message).toMatch(/ParameterBindingException/);
    }
    const missing = await c.exo('Get-MailboxPermission', {});
    expect(missing.status).toBe(400);
    expect(missing.json.error.details[0].message).toMatch(/missing mandatory parameters: Identity/);
  });
});
