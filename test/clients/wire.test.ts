/**
 * What goes over the wire, checked against a plain local HTTPS server that records
 * every request (no emulator in between), plus the tolerant parsing of the shapes
 * the services have been seen to send.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeClient, toPermissionEntries } from '../../src/exchange/index.js';
import { HelloIdClient } from '../../src/helloid/index.js';
import { closeSharedDispatchers, HttpClient } from '../../src/http/index.js';
import { isEffectiveFullAccess } from '../../src/core/index.js';
import { clearSecrets, redact } from '../../src/redact.js';
import { startServer, type TestServer } from '../http/server.js';
import { configFor, exchangeClient, fastSleep, startEmulator } from './helpers.js';
import type { ExchangeSource, HelloIdSource } from '../../src/sync/sources.js';
import type { HelloIdWriteApi } from '../../src/helloid/types.js';

const TENANT = '8f1a2b3c-0000-4000-8000-00000000abcd';
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterEach(() => {
  server.reset();
  clearSecrets();
});
afterAll(async () => {
  await server.close();
  await closeSharedDispatchers();
});

function exchange(useBatch = true): ExchangeClient {
  return new ExchangeClient({
    tenantId: TENANT,
    adminApiUrl: server.url,
    http: new HttpClient({ service: 'exchange', caPem: server.caPem, sleep: fastSleep }),
    auth: { getToken: async () => 'test-bearer-token' },
    useBatch,
  });
}

describe('Exchange requests', () => {
  it('sends the documented headers and body, and POSTs the same body to the next link', async () => {
    server.setHandler((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (!req.url?.includes('$skiptoken')) {
        res.end(JSON.stringify({ value: [{ Guid: 'g1', DisplayName: 'One', PrimarySmtpAddress: 'one@x' }], '@odata.nextLink': `${server.url}/adminapi/beta/${TENANT}/InvokeCommand?$skiptoken=abc` }));
      } else {
        res.end(JSON.stringify({ value: [{ guid: 'g2', displayName: 'Two', primarySmtpAddress: 'two@x', alias: 'two' }] }));
      }
    });
    const mailboxes = await exchange().listMailboxes("DisplayName -like 'S*'");
    expect(mailboxes).toEqual([
      { guid: 'g1', displayName: 'One', primarySmtpAddress: 'one@x', permissions: null },
      { guid: 'g2', displayName: 'Two', primarySmtpAddress: 'two@x', alias: 'two', permissions: null },
    ]);
    const [first, second] = server.log;
    expect(first?.method).toBe('POST');
    // Only the properties toMailbox reads (CIPP-API New-ExoRequest.ps1: InvokeCommand?$select=…);
    // the next link is followed exactly as given.
    expect(first?.url).toBe(`/adminapi/beta/${TENANT}/InvokeCommand?$select=Guid,ExchangeGuid,ExternalDirectoryObjectId,Identity,PrimarySmtpAddress,WindowsEmailAddress,UserPrincipalName,DisplayName,Name,Alias`);
    expect(second?.url).toBe(`/adminapi/beta/${TENANT}/InvokeCommand?$skiptoken=abc`);
    for (const r of [first, second]) {
      expect(r?.headers).toMatchObject({
        authorization: 'Bearer test-bearer-token',
        'content-type': 'application/json',
        'x-anchormailbox': `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${TENANT}`,
        'x-cmdletname': 'Get-Mailbox',
        'x-responseformat': 'json',
        prefer: 'odata.maxpagesize=1000',
      });
      expect(r?.headers['client-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(JSON.parse(r?.body ?? '')).toEqual({
        CmdletInput: { CmdletName: 'Get-Mailbox', Parameters: { RecipientTypeDetails: 'SharedMailbox', ResultSize: 'Unlimited', Filter: "DisplayName -like 'S*'" } },
      });
    }
  });

  it('always sends Parameters as an object', async () => {
    server.setHandler((_req, res) => res.end('{"value":[]}'));
    await exchange().invokeCommand('Get-Foo');
    expect(JSON.parse(server.log[0]?.body ?? '')).toEqual({ CmdletInput: { CmdletName: 'Get-Foo', Parameters: {} } });
  });

  it('refuses a page link to another host (the token would go with it)', async () => {
    server.setHandler((_req, res) => res.end(JSON.stringify({ value: [], '@odata.nextLink': 'https://elsewhere.example/InvokeCommand?$skiptoken=x' })));
    await expect(exchange().invokeCommand('Get-User', { ResultSize: 'Unlimited' })).rejects.toThrow(/page link to another host/);
  });

  it('refuses a reply that is no result instead of treating it as empty', async () => {
    server.setHandler((_req, res) => res.end('{"value":"something else"}'));
    await expect(exchange().listUsers()).rejects.toThrow(/\(Get-User\) returned 200 with a body that is no result/);
    server.setHandler((_req, res) => res.end('[]'));
    await expect(exchange().listUsers()).rejects.toThrow(/\(Get-User\) returned 200 with a body that is no result/);
    // An error object without `value` is no empty result either.
    server.setHandler((_req, res) => res.end('{"error":{"code":"InternalServerError","message":"Something went wrong"}}'));
    await expect(exchange().listUsers()).rejects.toThrow(/\(Get-User\) returned 200 with a body that is no result/);
  });

  // A group's members are unknown, never "none", when Get-Group's reply lists none (no
  // `Members`), and a lookup that returns several objects for one Identity is no answer:
  // either would otherwise make holders disappear and their removal be planned.
  it('a Get-Group reply without a Members list leaves the group unread, not empty', async () => {
    server.setHandler((req, res) => {
      if (req.headers['x-cmdletname'] === 'Get-Recipient') return res.end('{"value":[]}');
      res.end(JSON.stringify({ value: [{ Name: 'GG-X', RecipientTypeDetails: 'UniversalSecurityGroup', Guid: '0b0b0b0b-0000-4000-8000-000000000001' }] }));
    });
    const { groups, failedLookups } = await exchange().resolveGroups(['GG-X']);
    expect(failedLookups).toEqual([]);
    expect(groups.map((g) => [g.name, g.members, g.memberError])).toEqual([['GG-X', null, 'Get-Group returned no readable Members list']]);
  });

  it('a lookup that returns several objects for one Identity is a failed lookup', async () => {
    server.setHandler((_req, res) =>
      res.end(JSON.stringify({ value: [1, 2].map((n) => ({ Name: 'SG-X', RecipientTypeDetails: 'MailUniversalSecurityGroup', Guid: `0b0b0b0b-0000-4000-8000-00000000000${n}` })) })),
    );
    const { groups, failedLookups } = await exchange().resolveGroups(['SG-X']);
    expect(groups).toEqual([]);
    expect(failedLookups).toEqual([{ identity: 'SG-X', error: "Get-Recipient 'SG-X' returned 2 objects, not one" }]);
  });

  it('sends up to 10 InvokeCommand sub-requests per $batch', async () => {
    server.setHandler((req, res, body) => {
      const { requests } = JSON.parse(body) as { requests: Array<{ id: string; body: { CmdletInput: { Parameters: { Identity: string } } } }> };
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          responses: requests.map((r) => ({ id: r.id, status: 200, body: { value: [{ User: `owner-of-${r.body.CmdletInput.Parameters.Identity}`, AccessRights: ['FullAccess'], IsInherited: false, Deny: false }] } })).reverse(),
        }),
      );
      expect(req.url).toBe(`/adminapi/beta/${TENANT}/$batch`);
    });
    const mailboxes = Array.from({ length: 23 }, (_, i) => ({ guid: `mb-${i}`, displayName: `M${i}`, primarySmtpAddress: `m${i}@x`, permissions: null }));
    const out = await exchange().readPermissions(mailboxes);
    expect(out.map((m) => m.permissions?.[0]?.trustee)).toEqual(mailboxes.map((m) => `owner-of-${m.guid}`));
    expect(server.log.map((l) => (JSON.parse(l.body) as { requests: unknown[] }).requests.length)).toEqual([10, 10, 3]);
    const sub = (JSON.parse(server.log[0]?.body ?? '') as { requests: Array<Record<string, unknown>> }).requests[0] as Record<string, unknown>;
    expect(sub).toMatchObject({
      id: '1',
      method: 'POST',
      url: `${server.url}/adminapi/beta/${TENANT}/InvokeCommand`,
      body: { CmdletInput: { CmdletName: 'Get-MailboxPermission', Parameters: { Identity: 'mb-0' } } },
    });
    expect(sub.headers).toMatchObject({ 'x-cmdletname': 'Get-MailboxPermission', 'x-responseformat': 'json', authorization: 'Bearer test-bearer-token' });
    expect(server.log[0]?.headers['x-cmdletname']).toBeUndefined();
  });

  it('falls back to single calls when $batch is refused', async () => {
    server.setHandler((req, res, body) => {
      if (req.url?.endsWith('$batch')) {
        res.statusCode = 404;
        res.end('{"error":{"code":"NotFound","message":"no batch here"}}');
        return;
      }
      const identity = (JSON.parse(body) as { CmdletInput: { Parameters: { Identity: string } } }).CmdletInput.Parameters.Identity;
      res.end(JSON.stringify({ value: [{ User: `u-${identity}`, AccessRights: 'FullAccess', IsInherited: 'False', Deny: 'False' }] }));
    });
    const mailboxes = Array.from({ length: 25 }, (_, i) => ({ guid: `mb-${i}`, displayName: `M${i}`, primarySmtpAddress: `m${i}@x`, permissions: null }));
    const out = await exchange().readPermissions(mailboxes);
    expect(out.every((m, i) => m.permissions?.[0]?.trustee === `u-mb-${i}`)).toBe(true);
    // Batching is switched off for the rest of the run: at most one $batch per chunk started before.
    expect(server.log.filter((l) => l.url.endsWith('$batch')).length).toBeLessThanOrEqual(3);
    expect(server.log.filter((l) => l.url.endsWith('InvokeCommand'))).toHaveLength(25);
  });

  it('keeps the token out of error messages', async () => {
    server.setHandler((_req, res) => {
      res.statusCode = 400;
      res.end('{"error":{"message":"echo test-bearer-token"}}');
    });
    const { registerSecret } = await import('../../src/redact.js');
    registerSecret('test-bearer-token');
    const err = (await exchange()
      .listUsers()
      .catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('test-bearer-token');
    expect(redact(err.message)).toBe(err.message);
  });
});

describe('tolerant permission parsing', () => {
  it('accepts flat rows, PermissionList rows, comma strings, "True"/"False" and odd casing', () => {
    const rows = toPermissionEntries([
      { Identity: 'mb', User: 'a@x', AccessRights: ['FullAccess', 'ReadPermission'], IsInherited: false, Deny: false },
      { identity: 'mb', user: 'b@x', accessrights: 'ReadPermission, FullAccess', isinherited: 'False', deny: 'False' },
      { Identity: 'mb', User: 'c@x', PermissionList: [{ AccessRights: ['FullAccess'], IsInherited: 'True', Deny: false }] },
      { Identity: 'mb', User: 'd@x', AccessRights: ['FullAccess'], IsInherited: false, Deny: true },
      'garbage',
    ]);
    expect(rows).toEqual([
      { trustee: 'a@x', accessRights: ['FullAccess', 'ReadPermission'], isInherited: false, deny: false },
      { trustee: 'b@x', accessRights: ['ReadPermission', 'FullAccess'], isInherited: 'False', deny: 'False' },
      { trustee: 'c@x', accessRights: ['FullAccess'], isInherited: 'True', deny: false },
      { trustee: 'd@x', accessRights: ['FullAccess'], isInherited: false, deny: true },
    ]);
    expect(rows.filter(isEffectiveFullAccess).map((r) => r.trustee)).toEqual(['a@x', 'b@x']);
  });

  it('a row whose AccessRights are no list of rights fails the mailbox\u2019s read, not the row (it may grant FullAccess)', async () => {
    server.setHandler((_req, res) =>
      res.end(JSON.stringify({ value: [{ User: 'a@x', AccessRights: ['FullAccess'], IsInherited: false, Deny: false }, { User: 'b@x', AccessRights: 7, IsInherited: false, Deny: false }] })),
    );
    const [read] = await exchange(false).readPermissions([{ guid: 'g1', displayName: 'One', primarySmtpAddress: 'one@x', permissions: null }]);
    expect(read?.permissions).toBeNull();
    expect(read?.permissionError).toBe("a Get-MailboxPermission row for 'b@x' has AccessRights that are no list of rights (7)");
  });

  it('reads the same holders whatever row style the service uses', async () => {
    const holders = async (options: Parameters<typeof startEmulator>[0]): Promise<string[]> => {
      const emu = await startEmulator(options);
      try {
        const cfg = configFor(emu);
        const { client } = exchangeClient(emu, cfg);
        const out = await client.readPermissions(await client.listMailboxes());
        return out.flatMap((m) => (m.permissions ?? []).filter(isEffectiveFullAccess).map((r) => `${m.primarySmtpAddress} ${r.trustee}`)).sort();
      } finally {
        await emu.stop();
      }
    };
    const plain = await holders({});
    expect(plain.length).toBeGreaterThan(20);
    expect(await holders({ options: { exchange: { booleanStyle: 'string', permissionRowStyle: 'permissionList', accessRightsStyle: 'string' } } })).toEqual(plain);
  });
});

describe('HelloID requests', () => {
  it('sends Basic auth, pages with skip/take, and tolerates casing and member objects', async () => {
    const gid = randomUUID();
    server.setHandler((req, res) => {
      res.setHeader('content-type', 'application/json');
      const url = new URL(req.url ?? '/', server.url);
      const skip = Number(url.searchParams.get('skip'));
      if (url.pathname === '/api/v1/users') {
        const all = [{ userGUID: 'u1', userName: 'a@x' }, { userGuid: 'u2', UserName: 'b@x', firstName: 'Bee', lastName: 'Ex' }, { userGUID: 'u3', userName: 'c@x' }];
        res.end(JSON.stringify(all.slice(skip, skip + 2))); // the server caps take at 2
        return;
      }
      if (url.pathname === `/api/v1/groups/${gid}`) {
        res.end(JSON.stringify({ groupGUID: gid, name: 'G', users: ['u1', { userGUID: 'u2' }, { userGuid: 'u3' }] }));
        return;
      }
      res.end(JSON.stringify({ pageData: skip === 0 ? [{ groupGUID: gid, Name: 'G', source: '' }] : [] }));
    });
    const client = new HelloIdClient({ baseUrl: `${server.url}/`, apiKey: 'key-1234', apiSecret: 'secret-5678', http: new HttpClient({ service: 'helloid', caPem: server.caPem }) });
    expect(await client.listUsers()).toEqual([
      { userGuid: 'u1', userName: 'a@x' },
      { userGuid: 'u2', userName: 'b@x', displayName: 'Bee Ex' },
      { userGuid: 'u3', userName: 'c@x' },
    ]);
    expect(server.log.map((l) => l.url)).toEqual(['/api/v1/users?skip=0&take=1000', '/api/v1/users?skip=2&take=1000', '/api/v1/users?skip=3&take=1000']);
    expect(server.log[0]?.headers.authorization).toBe(`Basic ${Buffer.from('key-1234:secret-5678').toString('base64')}`);
    expect(await client.listGroups()).toEqual([{ groupGuid: gid, name: 'G', source: '', members: null }]);
    expect(await client.getGroupMembers(gid)).toEqual(['u1', 'u2', 'u3']);
    expect(redact(`x secret-5678 ${Buffer.from('key-1234:secret-5678').toString('base64')}`)).toBe('x *** ***');
  });

  it('stops a server that ignores skip from looping forever', async () => {
    server.setHandler((_req, res) => res.end(JSON.stringify([{ userGUID: 'u1', userName: 'a@x' }])));
    const client = new HelloIdClient({ baseUrl: server.url, apiKey: 'k', apiSecret: 's', http: new HttpClient({ service: 'helloid', caPem: server.caPem }) });
    await expect(client.listUsers()).rejects.toThrow(/repeated an earlier page/);
  });

  it('maps 409 and an "already a member" 400 to already-member', async () => {
    let n = 0;
    server.setHandler((_req, res) => {
      res.statusCode = n++ === 0 ? 409 : 400;
      res.end(JSON.stringify({ message: 'User is already a member of this group' }));
    });
    const client = new HelloIdClient({ baseUrl: server.url, apiKey: 'k', apiSecret: 's', http: new HttpClient({ service: 'helloid', caPem: server.caPem }) });
    expect(await client.addMember('g', 'u')).toBe('already-member');
    expect(await client.addMember('g', 'u')).toBe('already-member');
    expect(JSON.parse(server.log[0]?.body ?? '')).toEqual({ userGUID: 'u' });
  });
});


// Compile-time: the clients fit the orchestrator's phase interfaces and apply's write API.
const _exchangeSource: ExchangeSource = null as unknown as ExchangeClient;
const _helloIdSource: HelloIdSource & HelloIdWriteApi = null as unknown as HelloIdClient;
void _exchangeSource;
void _helloIdSource;
