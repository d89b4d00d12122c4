/**
 * Scale: a generated 5,000-mailbox / 20,000-user / 10,000-HelloID-group tenant loads
 * and serves — Exchange paging at the 1,000 cap, the default ResultSize of 1,000, and
 * HelloID paging to the empty page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Emulator } from '../../src/emulator/index.js';
import { generateTenant } from '../../bench/generate-tenant.js';
import { Client } from './helpers.js';

let emu: Emulator;
let c: Client;
const auth = `Basic ${Buffer.from('scale-helloid-key:scale-helloid-secret-not-real').toString('base64')}`;

beforeAll(async () => {
  const fixture = generateTenant({ mailboxes: 5000, users: 20000, holdersPerMailbox: 4, groups: 200, nestingDepth: 3, helloidGroups: 10000, seed: 7 });
  emu = await start({ fixture });
  c = new Client(emu);
});

afterAll(async () => {
  await c?.close();
  await emu?.stop();
});

describe('a 5,000-mailbox tenant', () => {
  it('pages every shared mailbox at the 1,000 cap, and truncates to 1,000 without ResultSize', async () => {
    const all = await c.exoAll('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox', ResultSize: 'Unlimited' }, { Prefer: 'odata.maxpagesize=5000' });
    expect(all.pages.map((p) => p.json.value.length)).toEqual([1000, 1000, 1000, 1000, 1000]);
    expect(new Set(all.items.map((m) => m.Guid)).size).toBe(5000);

    // Cut by the default ResultSize: one page, a warning, and a link that cannot be followed.
    const dflt = await c.exo('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox' });
    expect(dflt.json.value).toHaveLength(1000);
    expect(dflt.json['@adminapi.warnings']).toHaveLength(1);
    expect((await c.exo('Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox' }, { url: dflt.json['@odata.nextLink'] })).status).toBe(400);

    const perms = await c.exo('Get-MailboxPermission', { Identity: all.items[4321]!.Guid as string });
    expect(perms.json.value.filter((r: { AccessRights: string[] }) => r.AccessRights.includes('FullAccess')).length).toBeGreaterThanOrEqual(5);
  });

  it('pages 10,000 HelloID groups to the empty page', async () => {
    let n = 0;
    for (let skip = 0; ; skip += 1000) {
      const r = await c.hid('GET', `/api/v1/groups?skip=${skip}&take=1000`, undefined, auth);
      expect(r.status).toBe(200);
      if (r.json.length === 0) break;
      n += r.json.length;
    }
    expect(n).toBe(10000);
  });
});
