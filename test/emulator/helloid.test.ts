/**
 * HelloID contract: Basic auth, paged lists with default take and a server cap, one
 * group with its members, both forms of add and remove, 404 bodies, and the
 * resultMsg / pageData / non-member-delete options.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { start, type Emulator } from '../../src/emulator/index.js';
import { generateTenant } from '../../bench/generate-tenant.js';
import { Client, DEMO_FIXTURE } from './helpers.js';

let emu: Emulator;
let c: Client;
let alt: Emulator;
let ca: Client;
let big: Emulator;
let cb: Client;

beforeAll(async () => {
  const bigFixture = generateTenant({ mailboxes: 10, users: 2600, holdersPerMailbox: 1, groups: 0, helloidGroups: 20, seed: 2 });
  [emu, alt, big] = await Promise.all([
    start({ fixture: DEMO_FIXTURE }),
    start({ fixture: DEMO_FIXTURE, options: { helloid: { errorField: 'resultMsg', listWrapper: 'pageData', nonMemberDeleteStatus: 200, writeResponse: 'json', maxTake: 10 } } }),
    start({ fixture: bigFixture }),
  ]);
  c = new Client(emu);
  ca = new Client(alt);
  cb = new Client(big);
});

afterAll(async () => {
  await Promise.all([c?.close(), ca?.close(), cb?.close()]);
  await Promise.all([emu?.stop(), alt?.stop(), big?.stop()]);
});

const guidOf = (e: Emulator, name: string) => e.state.helloid.findGroup(name)!.groupGuid;
const userOf = (e: Emulator, userName: string) => e.state.helloid.findUser(userName)!.userGUID;

describe('HelloID reads', () => {
  it('401 without or with a bad key', async () => {
    expect((await c.call('GET', '/api/v1/groups')).status).toBe(401);
    const bad = await c.hid('GET', '/api/v1/groups', undefined, `Basic ${Buffer.from('demo-helloid-key:wrong').toString('base64')}`);
    expect(bad.status).toBe(401);
    expect(bad.json).toEqual({ message: 'Authorization has been denied for this request.' });
  });

  it('GET /groups: plain array of the documented fields, skip/take', async () => {
    const r = await c.hid('GET', '/api/v1/groups?skip=0&take=100');
    expect(r.status).toBe(200);
    expect(Array.isArray(r.json)).toBe(true);
    expect(r.json).toHaveLength(23);
    for (const g of r.json) expect(Object.keys(g)).toEqual(['groupGuid', 'name', 'isEnabled', 'isDefault', 'source', 'managedByUserGuid']);
    const fin = r.json.find((g: { name: string }) => g.name === 'Finance Resource Owners');
    expect(fin.source).toBeNull();
    const legal = r.json.filter((g: { name: string }) => g.name === 'Legal Resource Owners').map((g: { source: string }) => g.source);
    expect(legal).toEqual(['AD', 'Local']);
    const page2 = await c.hid('GET', '/api/v1/groups?skip=20&take=10');
    expect(page2.json).toHaveLength(3);
    expect((await c.hid('GET', '/api/v1/groups?skip=30&take=10')).json).toEqual([]);
    expect((await c.hid('GET', '/api/v1/groups?take=abc')).status).toBe(400);
  });

  it('GET /users: documented fields; default take 100; server cap 1000', async () => {
    const r = await c.hid('GET', '/api/v1/users?skip=0&take=5');
    expect(r.json).toHaveLength(5);
    expect(Object.keys(r.json[0])).toEqual(['userGUID', 'userName', 'firstName', 'lastName', 'contactEmail', 'isEnabled', 'source']);
    expect(r.json[0]).toMatchObject({ userName: 'anna.jansen@contoso.com', firstName: 'Anna', lastName: 'Jansen', isEnabled: true, source: 'AzureAD' });
    const renee = (await c.hid('GET', '/api/v1/users?skip=0&take=100')).json.find((u: { userName: string }) => u.userName === 'renee.dubois@contoso.com');
    expect(renee.firstName).toBe('Renée');

    const auth = `Basic ${Buffer.from('scale-helloid-key:scale-helloid-secret-not-real').toString('base64')}`;
    const dflt = await cb.hid('GET', '/api/v1/users', undefined, auth);
    expect(dflt.json).toHaveLength(100);
    const capped = await cb.hid('GET', '/api/v1/users?skip=0&take=5000', undefined, auth);
    expect(capped.json).toHaveLength(1000);
    const tail = await cb.hid('GET', '/api/v1/users?skip=2000&take=1000', undefined, auth);
    expect(tail.json).toHaveLength(2548 - 2000);
  });

  it('GET /groups/{guid or name}: the group with member userGUIDs; 404 Group not found', async () => {
    const byGuid = await c.hid('GET', `/api/v1/groups/${guidOf(emu, 'HR Resource Owners')}`);
    expect(byGuid.status).toBe(200);
    expect(byGuid.json).toMatchObject({ name: 'HR Resource Owners', source: 'Local', users: [userOf(emu, 'hanna.mulder@contoso.com'), userOf(emu, 'julia.bos@contoso.com')] });
    const byName = await c.hid('GET', `/api/v1/groups/${encodeURIComponent('Werving & Selectie Resource Owners')}`);
    expect(byName.json).toMatchObject({ name: 'Werving & Selectie Resource Owners', users: [] });
    const caseInsensitive = await c.hid('GET', `/api/v1/groups/${encodeURIComponent('klantenservice resource owners')}`);
    expect(caseInsensitive.json.users).toContain(userOf(emu, 'chris.peters@contoso.com'));
    const nf = await c.hid('GET', '/api/v1/groups/00000000-0000-4000-8000-00000000dead');
    expect([nf.status, nf.json]).toEqual([404, { message: 'Group not found' }]);
  });

  it('options: resultMsg errors and {"pageData":[…]} lists, take cap', async () => {
    const list = await ca.hid('GET', '/api/v1/groups?skip=0&take=100');
    expect(Object.keys(list.json)).toEqual(['pageData']);
    expect(list.json.pageData).toHaveLength(10);
    const nf = await ca.hid('GET', '/api/v1/groups/nope');
    expect([nf.status, nf.json]).toEqual([404, { resultMsg: 'Group not found' }]);
  });
});

describe('HelloID writes', () => {
  let group: string;
  let member: string;
  let outsider: string;
  beforeEach(() => {
    group = guidOf(emu, 'Facilities Resource Owners');
    member = userOf(emu, 'ursula.willems@contoso.com');
    outsider = userOf(emu, 'bram.devries@contoso.com');
  });
  const members = async () => (await c.hid('GET', `/api/v1/groups/${group}`)).json.users as string[];

  it('POST /groups/{g}/users adds; an existing member is not an error', async () => {
    const r = await c.hid('POST', `/api/v1/groups/${group}/users`, { userGUID: outsider });
    expect([r.status, r.text]).toEqual([200, '']);
    expect(await members()).toContain(outsider);
    const again = await c.hid('POST', `/api/v1/groups/${group}/users`, { userGUID: outsider });
    expect(again.status).toBe(200);
    expect((await members()).filter((u) => u === outsider)).toHaveLength(1);
  });

  it('DELETE /groups/{g}/users/{u} removes; a non-member is 404 (or 200 by option)', async () => {
    const r = await c.hid('DELETE', `/api/v1/groups/${group}/users/${outsider}`);
    expect(r.status).toBe(200);
    expect(await members()).not.toContain(outsider);
    const again = await c.hid('DELETE', `/api/v1/groups/${group}/users/${outsider}`);
    expect([again.status, again.json]).toEqual([404, { message: 'User not found' }]);
    const altGroup = guidOf(alt, 'Facilities Resource Owners');
    const lenient = await ca.hid('DELETE', `/api/v1/groups/${altGroup}/users/${userOf(alt, 'bram.devries@contoso.com')}`);
    expect(lenient.status).toBe(200);
    expect(lenient.json).toEqual({ resultMsg: 'User is not a member of the group' });
  });

  it('the user-side forms: POST /users/{u}/groups and DELETE /users/{u}/groups/{g}', async () => {
    const add = await c.hid('POST', `/api/v1/users/${outsider}/groups`, { groupGUID: group });
    expect(add.status).toBe(200);
    expect(await members()).toContain(outsider);
    const del = await c.hid('DELETE', `/api/v1/users/${outsider}/groups/${group}`);
    expect(del.status).toBe(200);
    expect(await members()).not.toContain(outsider);
    expect(await members()).toContain(member);
  });

  it('unknown group or user → 404; a group name is not accepted for writes; missing body field → 400', async () => {
    const ng = await c.hid('POST', '/api/v1/groups/00000000-0000-4000-8000-00000000dead/users', { userGUID: outsider });
    expect([ng.status, ng.json]).toEqual([404, { message: 'Group not found' }]);
    const nu = await c.hid('POST', `/api/v1/groups/${group}/users`, { userGUID: '00000000-0000-4000-8000-00000000beef' });
    expect([nu.status, nu.json]).toEqual([404, { message: 'User not found' }]);
    const byName = await c.hid('POST', `/api/v1/groups/${encodeURIComponent('Facilities Resource Owners')}/users`, { userGUID: outsider });
    expect(byName.status).toBe(404);
    const noBody = await c.hid('POST', `/api/v1/groups/${group}/users`, {});
    expect(noBody.status).toBe(400);
    // Property names bind case-insensitively.
    expect((await c.hid('POST', `/api/v1/groups/${group}/users`, { userGuid: outsider })).status).toBe(200);
    await c.hid('DELETE', `/api/v1/groups/${group}/users/${outsider}`);
  });
});

describe('HelloID deleted users, case-variant names, list wrappers and the paging fault', () => {
  const KEY = { key: 'k', secret: 's-not-real' };
  const AUTH = `Basic ${Buffer.from('k:s-not-real').toString('base64')}`;
  const A = '11111111-1111-4111-8111-111111111111';
  const B = '22222222-2222-4222-8222-222222222222';
  const C = '33333333-3333-4333-8333-333333333333';
  const D = '44444444-4444-4444-8444-444444444444';
  const G = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
  const fixture = {
    tenant: { id: '00000000-0000-4000-8000-000000000001', organization: 'x.onmicrosoft.com' },
    apps: [{ clientId: '00000000-0000-4000-8000-000000000002', secret: 'x-not-real' }],
    helloid: {
      apiKeys: [KEY],
      users: [
        { userName: 'Pat@contoso.com', userGUID: A },
        { userName: 'pat@contoso.com', userGUID: B },
        { userName: 'old@contoso.com', userGUID: C, isDeleted: true },
        { userName: 'zed@contoso.com', userGUID: D },
      ],
      groups: [{ name: 'G', groupGuid: G, members: ['pat@contoso.com', 'old@contoso.com'] }],
    },
  };
  let e: Emulator;
  let ce: Client;
  beforeAll(async () => {
    e = await start({ fixture: structuredClone(fixture), options: { helloid: { listWrapper: 'data', errorField: 'textResult' } } });
    ce = new Client(e);
  });
  afterAll(async () => {
    await ce?.close();
    await e?.stop();
  });
  const names = async (q = '') => ((await ce.hid('GET', `/api/v1/users${q}`, undefined, AUTH)).json.data as { userName: string }[]).map((u) => u.userName);

  it('a deleted user is not listed (but is with ?isDeleted=true), 404s on its URL, and stays a group member', async () => {
    expect(await names()).toEqual(['Pat@contoso.com', 'pat@contoso.com', 'zed@contoso.com']);
    expect(await names('?isDeleted=true')).toEqual(['old@contoso.com']);
    const one = await ce.hid('GET', `/api/v1/users/${C}`, undefined, AUTH);
    expect([one.status, one.json]).toEqual([404, { textResult: 'User not found' }]);
    expect((await ce.hid('GET', `/api/v1/groups/${G}`, undefined, AUTH)).json.users).toEqual([B, C]);
    const add = await ce.hid('POST', `/api/v1/groups/${G}/users`, { userGUID: C }, AUTH);
    expect(add.status).toBe(404);
  });

  it('userNames differing only in case are two users; a name reference matches the exact spelling first', async () => {
    expect(e.state.helloid.findUser('pat@contoso.com')!.userGUID).toBe(B);
    expect(e.state.helloid.findUser('Pat@contoso.com')!.userGUID).toBe(A);
    expect(e.state.helloid.findUser('PAT@contoso.com')!.userGUID).toBe(A);
    await expect(start({ fixture: { ...structuredClone(fixture), helloid: { apiKeys: [KEY], users: [{ userName: 'a@x' }, { userName: 'a@x' }] } } })).rejects.toThrow(/duplicate userName 'a@x'/);
    await expect(start({ fixture: { ...structuredClone(fixture), helloid: { apiKeys: [KEY], users: [{ userName: 'a@x' }, { userName: 'A@x' }] } } })).rejects.toThrow(
      /need explicit userGUIDs/,
    );
  });

  it('helloidDeleteUserWhilePaging deletes the user after N pages, once; bad values are refused', async () => {
    expect(() => e.setFaults({ helloidDeleteUserWhilePaging: { user: 'zed@contoso.com', afterPages: 0 } })).toThrow(/afterPages/);
    e.setFaults({ helloidDeleteUserWhilePaging: { user: 'Pat@contoso.com', afterPages: 1 } });
    const first = await ce.hid('GET', '/api/v1/users?skip=0&take=2', undefined, AUTH);
    expect(first.json.data.map((u: { userGUID: string }) => u.userGUID)).toEqual([A, B]);
    // Pat (A) is gone now: skip=2 lands past zed, who is never listed.
    const second = await ce.hid('GET', '/api/v1/users?skip=2&take=2', undefined, AUTH);
    expect(second.json.data).toEqual([]);
    expect(e.faults().helloidDeleteUserWhilePaging).toBeNull();
    expect(await names()).toEqual(['pat@contoso.com', 'zed@contoso.com']);
  });

  it('DELETE /_emulator/helloid/users/{ref} deletes a user out of band', async () => {
    const r = await ce.call('DELETE', '/_emulator/helloid/users/zed@contoso.com', { headers: { authorization: `Bearer ${e.controlToken}` } });
    expect([r.status, r.json]).toEqual([200, { userGUID: D, userName: 'zed@contoso.com', isDeleted: true }]);
    expect((await ce.hid('GET', `/api/v1/users/${D}`, undefined, AUTH)).status).toBe(404);
    const nf = await ce.call('DELETE', '/_emulator/helloid/users/nobody', { headers: { authorization: `Bearer ${e.controlToken}` } });
    expect(nf.status).toBe(404);
  });
});
