/**
 * HelloID conformance: one test per HelloID fact of docs/wire-formats.md that the client
 * depends on, the real HelloIdClient over HTTPS against the emulator set to answer that
 * way. Each test names the public source of the fact. Sources:
 *  - [T4E-HelloID] Tools4everBV/HelloID-Conn-Prov-Target-HelloID: create.ps1 and friends
 *    (Invoke-HelloIDRestMethod pages with take/skip, stops at a short page and unwraps a
 *    `data` property; Resolve-HelloIDError reads `resultMsg`, else `message`; the README
 *    lists /api/v1/users, /api/v1/users/{UserId}, /api/v1/users/{UserId}/groups).
 *  - [wire-formats] docs/wire-formats.md HelloID section, where it cites the
 *    Tools4everBV HelloID-Conn-* scripts for facts not in the files above (`pageData`,
 *    `textResult`, `error`, deleted users): those are taken from there as written.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { start, type Emulator, type EmulatorOptions, type TenantFixture } from '../../src/emulator/index.js';
import { closeSharedDispatchers, HttpError } from '../../src/http/index.js';
import { configFor, helloIdClient, logged } from '../clients/helpers.js';

// Fixed GUIDs, so expectations are literal. Fixture order is list order.
const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB_UPPER = '22222222-2222-4222-8222-222222222222';
const BOB_LOWER = '33333333-3333-4333-8333-333333333333';
const CAROL = '44444444-4444-4444-8444-444444444444';
const DAVE = '55555555-5555-4555-8555-555555555555';
const ERIN = '66666666-6666-4666-8666-666666666666';
const GONE = '77777777-7777-4777-8777-777777777777';
const SALES = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const FINANCE = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const LEGAL_AD = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const GHOST_GROUP = '00000000-0000-4000-8000-00000000dead';

const FIXTURE: TenantFixture = {
  tenant: { id: 'd6a1c1f0-0000-4000-8000-000000000001', organization: 'wire.onmicrosoft.com' },
  apps: [{ clientId: '00000000-0000-4000-8000-000000000002', displayName: 'wire test', secret: 'wire-app-secret-not-real', roles: ['Exchange.ManageAsApp'] }],
  helloid: {
    apiKeys: [{ key: 'wire-key', secret: 'wire-secret-not-real' }],
    users: [
      { userName: 'alice@contoso.com', userGUID: ALICE, firstName: 'Alice', lastName: 'Smit' },
      // Two userNames that differ only in case are two users.
      { userName: 'Bob.Case@contoso.com', userGUID: BOB_UPPER, firstName: 'Bob', lastName: 'Upper' },
      { userName: 'bob.case@contoso.com', userGUID: BOB_LOWER, firstName: 'Bob', lastName: 'Lower' },
      { userName: 'carol@contoso.com', userGUID: CAROL },
      { userName: 'dave@contoso.com', userGUID: DAVE },
      { userName: 'erin@contoso.com', userGUID: ERIN },
      { userName: 'gone@contoso.com', userGUID: GONE, isDeleted: true },
    ],
    groups: [
      { name: 'Sales Resource Owners', groupGuid: SALES, members: [ALICE, GONE, BOB_LOWER] },
      { name: 'Finance Resource Owners', groupGuid: FINANCE, source: null },
      { name: 'Legal Resource Owners', groupGuid: LEGAL_AD, source: 'AD' },
    ],
  },
};

const LIVE_USERS = [
  { userGuid: ALICE, userName: 'alice@contoso.com', displayName: 'Alice Smit' },
  { userGuid: BOB_UPPER, userName: 'Bob.Case@contoso.com', displayName: 'Bob Upper' },
  { userGuid: BOB_LOWER, userName: 'bob.case@contoso.com', displayName: 'Bob Lower' },
  { userGuid: CAROL, userName: 'carol@contoso.com', displayName: 'Carol' },
  { userGuid: DAVE, userName: 'dave@contoso.com', displayName: 'Dave' },
  { userGuid: ERIN, userName: 'erin@contoso.com', displayName: 'Erin' },
];

const emulators: Emulator[] = [];
let emu: Emulator;

async function emulator(helloid: Partial<EmulatorOptions['helloid']> = {}): Promise<Emulator> {
  const e = await start({ fixture: structuredClone(FIXTURE), options: { helloid } });
  emulators.push(e);
  return e;
}

function client(e: Emulator, pageSize?: number, extra: Parameters<typeof helloIdClient>[2] = {}) {
  return helloIdClient(e, configFor(e), extra, pageSize).client;
}

beforeAll(async () => {
  emu = await emulator();
});
afterEach(() => {
  emu.resetFaults();
});
afterAll(async () => {
  await Promise.all(emulators.map((e) => e.stop()));
  await closeSharedDispatchers();
});

describe('HelloID wire formats', () => {
  // [T4E-HelloID] create.ps1: "Basic " + base64("${HelloIDApiKey}:${HelloIDApiSecret}").
  // 401 for a bad key: [wire-formats].
  it('Basic auth with key:secret; a 401 is "API key rejected"', async () => {
    expect(await client(emu).listUsers()).toHaveLength(6);
    const cfg = configFor(emu);
    const bad = helloIdClient(emu, { ...cfg, helloid: { ...cfg.helloid, apiSecret: 'not-the-secret' } }).client;
    await expect(bad.listUsers()).rejects.toThrow(`HelloID rejected the API key for ${emu.url} (401)`);
  });

  // [wire-formats] GET /api/v1/users?skip=&take= → plain array of userGUID, userName,
  // firstName, lastName, …; [T4E-HelloID] create.ps1 reads `userGUID` from the reply.
  it('GET /users: a plain array, mapped to userGuid, userName and first + last name; names differing in case are two users', async () => {
    expect(await client(emu).listUsers()).toEqual(LIVE_USERS);
  });

  // [wire-formats] GET /api/v1/groups → plain array of groupGuid, name, source, …; source
  // may be null (= Local).
  it('GET /groups: a plain array; a null source stays null', async () => {
    expect(await client(emu).listGroups()).toEqual([
      { groupGuid: SALES, name: 'Sales Resource Owners', source: 'Local', members: null },
      { groupGuid: FINANCE, name: 'Finance Resource Owners', source: null, members: null },
      { groupGuid: LEGAL_AD, name: 'Legal Resource Owners', source: 'AD', members: null },
    ]);
  });

  // [wire-formats] GET /api/v1/groups/{groupGuid} → the group with "users": [userGUID, …].
  it('GET /groups/{guid}: member userGUIDs, a deleted user\'s included', async () => {
    expect(await client(emu).getGroup(SALES)).toEqual({ groupGuid: SALES, name: 'Sales Resource Owners', source: 'Local', members: [ALICE, GONE, BOB_LOWER] });
  });

  // [wire-formats] POST /groups/{g}/users {"userGUID"} → 200; an existing member is no error.
  // DELETE /groups/{g}/users/{u} → 200; a non-member's 404 means done.
  it('add and remove a member, both idempotent', async () => {
    const c = client(emu);
    expect(await c.addMember(FINANCE, CAROL)).toBe('added');
    expect(await c.addMember(FINANCE, CAROL)).toBe('added'); // HelloID answers 200 again
    expect(await c.getGroupMembers(FINANCE)).toEqual([CAROL]);
    expect(await c.removeMember(FINANCE, CAROL)).toBe('removed');
    expect(await c.removeMember(FINANCE, CAROL)).toBe('not-a-member');
  });

  // [wire-formats] Errors: 404 {"message":"User not found"} / "Group not found".
  it('GET /users/{guid} of a deleted user: 404 "User not found" is "no such user", not a failure', async () => {
    const c = client(emu);
    expect(await c.getUser(GONE)).toBeUndefined();
    expect(await c.getUser(DAVE)).toEqual({ userGuid: DAVE, userName: 'dave@contoso.com', displayName: 'Dave' });
  });

  // [wire-formats] Deleted users are left out of GET /users (unless ?isDeleted=true), their
  // GUIDs can still appear in a group's users; GET /users/{guid} resolves one user.
  it('a deleted member: not listed, still in the group, and lookupUsers says null', async () => {
    const c = client(emu);
    const listed = new Set((await c.listUsers()).map((u) => u.userGuid));
    const missing = (await c.getGroupMembers(SALES)).filter((g) => !listed.has(g));
    expect(missing).toEqual([GONE]);
    // One lookup fails for good (500 on every attempt): an Error, not null.
    emu.setFaults({ rules: [{ service: 'helloid', path: `/api/v1/users/${CAROL}`, action: 'error', status: 500 }] });
    const found = await helloIdClient(emu, configFor(emu), { maxAttempts: 2 }).client.lookupUsers([GONE, ALICE, CAROL, GONE]);
    expect([...found.keys()]).toEqual([GONE, ALICE, CAROL]);
    expect(found.get(GONE)).toBeNull();
    expect(found.get(ALICE)).toEqual({ userGuid: ALICE, userName: 'alice@contoso.com', displayName: 'Alice Smit' });
    const err = found.get(CAROL);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as Error).message).toBe(`GET ${emu.url}/api/v1/users/${CAROL} (user) failed: 500 Internal Server Error after 2 attempts — An error has occurred (injected fault).`);
  });

  // [wire-formats] Offset paging (skip/take) is not a snapshot: a user deleted while the
  // list is read shifts later pages, so one user can be skipped. The client cannot see
  // this; a member GUID missing from the list is looked up one by one instead.
  it('a user deleted mid-listing makes the next page skip a live user, whom a lookup still finds', async () => {
    // Pages of 2: [alice, Bob.Case], then alice is deleted, so skip=2 starts at carol.
    emu.setFaults({ helloidDeleteUserWhilePaging: { user: 'alice@contoso.com', afterPages: 1 } });
    const c = client(emu, 2);
    const listed = await c.listUsers();
    expect(listed.map((u) => u.userName)).toEqual(['alice@contoso.com', 'Bob.Case@contoso.com', 'carol@contoso.com', 'dave@contoso.com', 'erin@contoso.com']);
    const known = new Set(listed.map((u) => u.userGuid));
    const missing = (await c.getGroupMembers(SALES)).filter((g) => !known.has(g));
    expect(missing).toEqual([GONE, BOB_LOWER]);
    const found = await c.lookupUsers(missing);
    expect(found.get(BOB_LOWER)).toEqual({ userGuid: BOB_LOWER, userName: 'bob.case@contoso.com', displayName: 'Bob Lower' });
    expect(found.get(GONE)).toBeNull();
  });

  // [wire-formats] Paging: page until an empty page, since the server may cap `take`
  // ([T4E-HelloID] stops at a page shorter than `take`, which a cap would end early).
  it('pages until an empty page when the server caps take', async () => {
    const capped = await emulator({ maxTake: 2 });
    expect(await client(capped, 1000).listUsers()).toEqual(LIVE_USERS);
    expect(logged(capped, { path: '/api/v1/users?' }).map((e) => e.path)).toEqual([
      '/api/v1/users?skip=0&take=1000',
      '/api/v1/users?skip=2&take=1000',
      '/api/v1/users?skip=4&take=1000',
      '/api/v1/users?skip=6&take=1000',
    ]);
  });

  // [wire-formats] List replies are a plain array, or wrapped in {"pageData":[…]} or
  // {"data":[…]}; [T4E-HelloID] create.ps1 unwraps `$response.data`. (Before this
  // change the client refused {"data": …}.)
  for (const listWrapper of ['plain', 'pageData', 'data'] as const) {
    it(`lists wrapped as ${listWrapper} are read, and probe accepts them`, async () => {
      const e = await emulator({ listWrapper, maxTake: 4 });
      const c = client(e, 4);
      expect(await c.listUsers()).toEqual(LIVE_USERS);
      expect((await c.listGroups()).map((g) => g.groupGuid)).toEqual([SALES, FINANCE, LEGAL_AD]);
      await expect(c.probe()).resolves.toBeUndefined();
    });
  }

  // [wire-formats] Error text may be in message, resultMsg, textResult or error;
  // [T4E-HelloID] Resolve-HelloIDError reads resultMsg, else message. The user sees the
  // text, never the JSON body. (Before this change every one of these showed the raw
  // body, and with textResult a missing group was taken for "not a member".)
  for (const errorField of ['message', 'resultMsg', 'textResult', 'error'] as const) {
    it(`error text in "${errorField}" is what the error says`, async () => {
      const e = await emulator({ errorField });
      const c = client(e);
      const err = (await c.removeMember(GHOST_GROUP, DAVE).catch((x: unknown) => x)) as Error;
      expect(err).toBeInstanceOf(HttpError);
      expect(err.message).toBe(`DELETE ${e.url}/api/v1/groups/${GHOST_GROUP}/users/${DAVE} (remove member) failed: 404 Not Found — Group not found`);
      await expect(c.getGroupMembers(GHOST_GROUP)).rejects.toThrow(/^GET \S+ \(group members\) failed: 404 Not Found — Group not found$/);
      expect(await c.getGroup(GHOST_GROUP)).toBeUndefined();
      expect(await c.getUser(GONE)).toBeUndefined();
    });
  }

  // [wire-formats] "GET /users/{userGuid} resolves one user"; a 404 that says "not found"
  // is an answer (deleted), but a 404 that does not say so — here the emulator's answer to
  // a path outside the API, as a wrong helloid.baseUrl would get [inferred] — is an error:
  // a bad base URL must not make members look deleted, nor planned groups look gone.
  it('a 404 from a wrong URL is an error for single users and groups, not "deleted"', async () => {
    const cfg = configFor(emu);
    const wrong = helloIdClient(emu, { ...cfg, helloid: { ...cfg.helloid, baseUrl: `${emu.url}/not-helloid` } }).client;
    await expect(wrong.getUser(DAVE)).rejects.toThrow(/\(user\) failed: 404 Not Found/);
    await expect(wrong.getGroup(SALES)).rejects.toThrow(/\(group members\) failed: 404 Not Found/);
  });

  // [wire-formats] "non-member: treat 404 as done" — the 404 that says so ("User not found"),
  // not any 404: apply journals 'not-a-member' as done, so a wrong URL must be an error.
  it('a 404 from a wrong URL on DELETE is an error, not "not a member"', async () => {
    const cfg = configFor(emu);
    const wrong = helloIdClient(emu, { ...cfg, helloid: { ...cfg.helloid, baseUrl: `${emu.url}/not-helloid` } }).client;
    await expect(wrong.removeMember(SALES, DAVE)).rejects.toThrow(/\(remove member\) failed: 404 Not Found/);
  });

  // [wire-formats] No documented rate limit; back off on 429 anyway.
  it('backs off on 429 with Retry-After and then succeeds', async () => {
    emu.setFaults({ retryAfterSeconds: 0.01, rules: [{ service: 'helloid', path: '/api/v1/groups', action: 'error', status: 429, times: 2 }] });
    const { client: c, http } = helloIdClient(emu, configFor(emu));
    expect(await c.listGroups()).toHaveLength(3);
    expect(http.stats().throttled).toBe(2);
  });
});
