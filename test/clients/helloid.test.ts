/**
 * The HelloID client against the emulator: paging to an empty page under a server
 * cap, both list shapes, member reads, 401, add/remove idempotence, and retries.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { closeSharedDispatchers } from '../../src/http/index.js';
import type { HelloIdGroup, HelloIdUser } from '../../src/core/types.js';
import { configFor, helloIdClient, logged, startEmulator, type TestConfig } from './helpers.js';

let emu: Emulator;
let cfg: TestConfig;
let users: HelloIdUser[];
let groups: HelloIdGroup[];

beforeAll(async () => {
  emu = await startEmulator();
  cfg = configFor(emu);
  const { client } = helloIdClient(emu, cfg);
  users = await client.listUsers();
  groups = await client.listGroups();
});
afterEach(() => {
  emu.setFaults({ randomFailRate: 0, resetRate: 0, rules: [] });
});
afterAll(async () => {
  await emu.stop();
  await closeSharedDispatchers();
});

const groupNamed = (name: string, source = 'Local'): HelloIdGroup =>
  groups.find((g) => g.name === name && (g.source ?? 'Local') === source) as HelloIdGroup;
const userNamed = (name: string): HelloIdUser => users.find((u) => u.userName.toLowerCase() === name.toLowerCase()) as HelloIdUser;

describe('lists', () => {
  it('maps users and groups to core types', () => {
    expect(users.length).toBe(59);
    expect(groups.length).toBe(23);
    expect(userNamed('anna.jansen@contoso.com')).toMatchObject({ userName: 'anna.jansen@contoso.com', displayName: 'Anna Jansen' });
    expect(userNamed('anna.jansen@contoso.com').userGuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(groups.find((g) => g.name === 'Finance Resource Owners')).toMatchObject({ source: null, members: null });
    expect(groups.filter((g) => g.name === 'Legal Resource Owners').map((g) => g.source).sort()).toEqual(['AD', 'Local']);
  });

  it('pages until an empty page even when the server caps take', async () => {
    const capped = await startEmulator({ options: { helloid: { maxTake: 7 } } });
    try {
      const c = configFor(capped);
      const { client } = helloIdClient(capped, c, {}, 1000);
      expect(await client.listUsers()).toEqual(users);
      expect(await client.listGroups()).toEqual(groups);
      // 59 users in pages of 7 = 9 pages, plus the empty one that ends the list.
      expect(logged(capped, { path: '/api/v1/users?' })).toHaveLength(10);
      expect(logged(capped, { path: '/api/v1/users?' }).map((e) => e.path)).toContain('/api/v1/users?skip=56&take=1000');
    } finally {
      await capped.stop();
    }
  });

  it('accepts {"pageData": […]} and resultMsg error bodies', async () => {
    const wrapped = await startEmulator({ options: { helloid: { listWrapper: 'pageData', errorField: 'resultMsg', maxTake: 10 } } });
    try {
      const c = configFor(wrapped);
      const { client } = helloIdClient(wrapped, c);
      expect(await client.listUsers()).toEqual(users);
      expect(await client.listGroups()).toEqual(groups);
      await expect(client.removeMember('00000000-0000-4000-8000-00000000dead', userNamed('anna.jansen@contoso.com').userGuid)).rejects.toThrow(/404 Not Found — Group not found$/);
    } finally {
      await wrapped.stop();
    }
  });

  it('retries 429s, 5xx and resets and still reads everything', async () => {
    emu.setFaults({ randomFailRate: 0.3, randomFailStatuses: [429, 500, 503], resetRate: 0.05, retryAfterSeconds: 0.01, seed: 3 });
    const { client, http } = helloIdClient(emu, cfg, { maxAttempts: 15 }, 10);
    expect(await client.listUsers()).toEqual(users);
    expect(await client.listGroups()).toEqual(groups);
    expect(http.stats().retries).toBeGreaterThan(0);
  });
});

describe('members', () => {
  it('reads the member userGUIDs of a group', async () => {
    const { client } = helloIdClient(emu, cfg);
    const hr = groupNamed('HR Resource Owners');
    const members = await client.getGroupMembers(hr.groupGuid);
    expect(members.sort()).toEqual([userNamed('hanna.mulder@contoso.com').userGuid, userNamed('julia.bos@contoso.com').userGuid].sort());
  });

  it('reads many groups in parallel, with an Error for the one that fails', async () => {
    const hr = groupNamed('HR Resource Owners');
    const finance = groupNamed('Finance Resource Owners', 'Local');
    emu.setFaults({ rules: [{ service: 'helloid', path: `/api/v1/groups/${hr.groupGuid}`, action: 'error', status: 500 }] });
    const { client } = helloIdClient(emu, cfg, { maxAttempts: 2 });
    const progress: number[] = [];
    const out = await client.readMembers([hr.groupGuid, finance.groupGuid], (done) => progress.push(done));
    expect(out.get(finance.groupGuid)).toEqual([userNamed('anna.jansen@contoso.com').userGuid]);
    const err = out.get(hr.groupGuid);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`GET ${emu.url}/api/v1/groups/${hr.groupGuid} (group members) failed: 500 Internal Server Error after 2 attempts — An error has occurred (injected fault).`);
    expect(progress).toEqual([1, 2]);
  });
});

describe('authentication', () => {
  it('says the API key was rejected, without the key or secret', async () => {
    const bad = { ...cfg, helloid: { ...cfg.helloid, apiSecret: 'wrong-helloid-secret' } };
    const { client } = helloIdClient(emu, bad);
    const err = (await client.listUsers().catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`HelloID rejected the API key for ${emu.url} (401)`);
    expect(err.message).not.toContain('wrong-helloid-secret');
    expect(err.message).not.toContain(cfg.helloid.apiKey);
  });
});

describe('writes', () => {
  it('add and remove are idempotent', async () => {
    const { client } = helloIdClient(emu, cfg);
    const g = groupNamed('Werving & Selectie Resource Owners');
    const u = userNamed('sofie.aerts@contoso.com');
    expect(await client.getGroupMembers(g.groupGuid)).toEqual([]);
    expect(await client.addMember(g.groupGuid, u.userGuid)).toBe('added');
    // The API answers 200 for an existing member too.
    expect(['added', 'already-member']).toContain(await client.addMember(g.groupGuid, u.userGuid));
    expect(await client.getGroupMembers(g.groupGuid)).toEqual([u.userGuid]);
    expect(await client.removeMember(g.groupGuid, u.userGuid)).toBe('removed');
    expect(await client.removeMember(g.groupGuid, u.userGuid)).toBe('not-a-member');
    expect(await client.getGroupMembers(g.groupGuid)).toEqual([]);
  });

  it('treats a 200 for removing a non-member as removed', async () => {
    const lenient = await startEmulator({ options: { helloid: { nonMemberDeleteStatus: 200, writeResponse: 'json' } } });
    try {
      const c = configFor(lenient);
      const { client } = helloIdClient(lenient, c);
      const [g] = await client.listGroups();
      const [u] = await client.listUsers();
      expect(await client.removeMember(g!.groupGuid, u!.userGuid)).toBe('removed');
    } finally {
      await lenient.stop();
    }
  });

  it('reports a missing group as an error, for add and remove', async () => {
    const { client } = helloIdClient(emu, cfg);
    const u = userNamed('sofie.aerts@contoso.com');
    const ghost = '00000000-0000-4000-8000-00000000dead';
    await expect(client.removeMember(ghost, u.userGuid)).rejects.toThrow(`DELETE ${emu.url}/api/v1/groups/${ghost}/users/${u.userGuid} (remove member) failed: 404 Not Found — Group not found`);
    await expect(client.addMember(ghost, u.userGuid)).rejects.toThrow(`POST ${emu.url}/api/v1/groups/${ghost}/users (add member) failed: 404 Not Found`);
  });

  it('retries writes through 5xx and 429', async () => {
    const g = groupNamed('Inkoop Resource Owners');
    const u = userNamed('hugo.claes@contoso.com');
    emu.setFaults({ rules: [{ service: 'helloid', method: 'POST', action: 'error', status: 503, times: 2 }, { service: 'helloid', method: 'DELETE', action: 'error', status: 429, times: 2 }] });
    const { client } = helloIdClient(emu, cfg);
    expect(await client.addMember(g.groupGuid, u.userGuid)).toBe('added');
    expect(await client.getGroupMembers(g.groupGuid)).toContain(u.userGuid);
    expect(await client.removeMember(g.groupGuid, u.userGuid)).toBe('removed');
    expect(await client.getGroupMembers(g.groupGuid)).not.toContain(u.userGuid);
  });
});
