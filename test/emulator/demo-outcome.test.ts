/**
 * The demo tenant's header promises an outcome. This checks the promise with a small,
 * independent reading of spec §3 over the fixture model (not the product's core), so
 * the fixture and its comment cannot drift apart.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadFixture } from '../../src/emulator/index.js';
import { buildModel, type Recipient } from '../../src/emulator/model.js';
import { DEMO_FIXTURE } from './helpers.js';

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const isSystem = (t: string) => /^NT AUTHORITY\\/i.test(t) || /^S-1-5-/i.test(t) || t.includes('\\');

let managedMembers = 0;
let managedCount = 0;

function outcome(removeMembers: boolean) {
  const m = buildModel(loadFixture(DEMO_FIXTURE), 'demo');
  const ex = m.exchange;
  const hid = m.helloid;
  const adds: string[] = [];
  const removes: string[] = [];
  const kept: string[] = [];
  const warnings: string[] = [];
  const managed: { members: Set<string> }[] = [];
  const userByUpn = new Map(ex.users.map((u) => [u.userPrincipalName!.toLowerCase(), u]));
  const expand = (g: Recipient, seen: Set<Recipient>, out: Set<string>) => {
    if (seen.has(g)) return;
    seen.add(g);
    for (const mem of g.members) {
      if (mem.kind === 'group') expand(mem, seen, out);
      else if (mem.userPrincipalName) out.add(mem.userPrincipalName.toLowerCase());
    }
  };
  for (const mb of ex.mailboxes.filter((x) => x.recipientTypeDetails === 'SharedMailbox')) {
    const holders = new Set<string>();
    for (const row of mb.permissions) {
      if (!row.accessRights.some((r) => r.toLowerCase() === 'fullaccess') || row.deny || row.isInherited || isSystem(row.user)) continue;
      const u = userByUpn.get(row.user.toLowerCase());
      const g = ex.groupIndex.get(row.user);
      if (u) holders.add(u.userPrincipalName!.toLowerCase());
      // Security groups, mail-enabled or not (GG-Archief-Beheer is not).
      else if (g && /^(Mail)?UniversalSecurityGroup$/.test(g.recipientTypeDetails)) expand(g, new Set(), holders);
      else warnings.push(`unresolved ${row.user}`);
    }
    const wanted = `${mb.displayName} Resource Owners`;
    const local = hid.groups.filter((g) => (g.source ?? 'Local') === '' || (g.source ?? 'Local').toLowerCase() === 'local');
    let cands = local.filter((g) => g.name.toLowerCase() === wanted.toLowerCase());
    if (cands.length === 0) cands = local.filter((g) => fold(g.name) === fold(wanted));
    if (cands.length !== 1) {
      warnings.push(cands.length === 0 ? `no owner group: ${mb.displayName}` : `ambiguous: ${mb.displayName}`);
      continue;
    }
    const group = cands[0]!;
    managed.push(group);
    const desired = new Set<string>();
    for (const upn of holders) {
      const hu = hid.findUser(upn);
      if (hu) desired.add(hu.userGUID);
      else warnings.push(`no HelloID user: ${upn} (${mb.displayName})`);
    }
    const name = (guid: string) => hid.userByGuidOnly(guid)!.userName.toLowerCase();
    for (const d of desired) if (!group.members.has(d)) adds.push(`${group.name} + ${name(d)}`);
    for (const cur of group.members) {
      if (desired.has(cur)) continue;
      (removeMembers ? removes : kept).push(`${group.name} - ${name(cur)}`);
    }
  }
  managedMembers = managed.reduce((n, g) => n + g.members.size, 0);
  managedCount = managed.length;
  return { adds: adds.sort(), removes: removes.sort(), kept: kept.sort(), warnings: warnings.sort() };
}

describe('demo tenant outcome (as documented in its header)', () => {
  const expectedAdds = [
    'Archief Resource Owners + vincent.leclercq@contoso.com',
    'Cafe Bestellingen Resource Owners + carmen.lopez@contoso.com',
    'Cafe Bestellingen Resource Owners + renee.dubois@contoso.com',
    'Events Resource Owners + anna.jansen@contoso.com',
    'Finance Resource Owners + bram.devries@contoso.com',
    'HR Resource Owners + ivo.deboer@contoso.com',
    'HR Resource Owners + koen.vos@contoso.com',
    'Inkoop Resource Owners + hugo.claes@contoso.com',
    'Legal Resource Owners + sanne.jacobs@contoso.com',
    'Werving & Selectie Resource Owners + rik.vandamme@contoso.com',
    'Werving & Selectie Resource Owners + sofie.aerts@contoso.com',
  ];
  const stale = ['Facilities Resource Owners - pieter.bakker@contoso.com', 'Logistiek Resource Owners - jan.wouters@contoso.com'];
  const warnings = ['no HelloID user: marco.kramer.extern@contoso.com (Support)', 'no owner group: Marketing'];

  it('default settings: 11 adds, 2 kept, 2 warnings', () => {
    const o = outcome(false);
    expect(o).toEqual({ adds: expectedAdds, removes: [], kept: stale, warnings });
  });

  it('removeMembers: the same adds plus 2 removes', () => {
    expect(outcome(true)).toEqual({ adds: expectedAdds, removes: stale, kept: [], warnings });
    expect([managedCount, managedMembers]).toEqual([19, 28]);
  });

  it('the header states these numbers', () => {
    const header = readFileSync(DEMO_FIXTURE, 'utf8').split('\n').filter((l) => l.startsWith('#')).join('\n');
    expect(header).toContain('11 adds, 0 removes, 2 kept');
    expect(header).toContain('2 of 28 current members of the 19 managed groups');
  });
});
