#!/usr/bin/env node
/**
 * Generates an emulator tenant fixture at scale (plain ESM, no build step, nothing
 * from dist). Deterministic for a given --seed. Guids are left out: the emulator
 * derives them from names, which keeps the file small.
 *
 *   node bench/generate-tenant.js --mailboxes 5000 --users 20000 --holders-per-mailbox 4 \
 *     --groups 200 --nesting-depth 3 --helloid-groups 10000 --seed 7 --out /tmp/tenant.json
 *
 * Write .json for large tenants (the emulator parses it natively; YAML is much slower).
 * Without --out the fixture goes to stdout. Only a summary is printed, to stderr.
 * Also importable: `generateTenant(options)` returns the fixture object.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const FIRST = ['Anna', 'Bram', 'Chris', 'Daan', 'Eva', 'Femke', 'Gijs', 'Hanna', 'Ivo', 'Julia', 'Koen', 'Lisa', 'Milan', 'Noor', 'Olaf', 'Renée', 'Zoë', 'Carmen', 'Elif', 'José'];
const LAST = ['Jansen', 'de Vries', 'Peters', 'Bakker', 'Visser', 'Smit', 'Meijer', 'Mulder', 'de Boer', 'Bos', 'Vos', 'Dekker', 'Hendriks', 'van Dijk', 'Dubois', 'López', 'Yılmaz', 'Müller', 'Nguyen', 'Khan'];

export const DEFAULTS = Object.freeze({
  mailboxes: 100,
  users: 400,
  holdersPerMailbox: 3,
  groups: 10,
  nestingDepth: 2,
  helloidGroups: undefined, // default: one owner group per mailbox + 10 filler
  seed: 1,
  /** Fraction of desired (direct) owners already present in their HelloID group. */
  inSync: 0.8,
  /** Chance that an owner group has one stale member. */
  staleRate: 0.1,
  tenantId: '00000000-0000-4000-8000-000000000101',
  clientId: '00000000-0000-4000-8000-000000000102',
  secret: 'scale-secret-not-real',
  helloidKey: 'scale-helloid-key',
  helloidSecret: 'scale-helloid-secret-not-real',
  domain: 'scale.example',
});

/** mulberry32: small, fast, seedable. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n, w) => String(n).padStart(w, '0');

/** Build a fixture object. Options as DEFAULTS; unknown keys are ignored. */
export function generateTenant(options = {}) {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  for (const k of ['mailboxes', 'users', 'holdersPerMailbox', 'groups', 'nestingDepth', 'seed']) {
    if (!Number.isInteger(o[k]) || o[k] < 0) throw new Error(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a non-negative integer`);
  }
  if (o.users < 1) throw new Error('--users must be at least 1');
  const helloidGroups = o.helloidGroups ?? o.mailboxes + 10;
  if (!Number.isInteger(helloidGroups) || helloidGroups < 0) throw new Error('--helloid-groups must be a non-negative integer');
  const rnd = prng(o.seed);
  const pick = (n) => Math.floor(rnd() * n);
  const d = o.domain;
  const uw = String(o.users).length;
  const mw = String(o.mailboxes).length;

  // Users: every 50th has no HelloID account (the "no HelloID user" warning at scale).
  const upns = [];
  const exUsers = [];
  const hidUsers = [];
  for (let i = 0; i < o.users; i++) {
    const f = FIRST[i % FIRST.length];
    const l = LAST[Math.floor(i / FIRST.length) % LAST.length];
    const upn = `user${pad(i, uw)}@${d}`;
    upns.push(upn);
    exUsers.push({ upn, displayName: `${f} ${l} ${i}` });
    if (i % 50 !== 49) hidUsers.push({ userName: upn, firstName: f, lastName: `${l} ${i}`, source: 'AzureAD' });
  }
  const hasHelloId = (idx) => idx % 50 !== 49;

  // Mail-enabled security groups, chained nestingDepth deep: group k contains k+1
  // unless k closes a chain.
  const groups = [];
  const groupUsers = []; // direct user indexes per group, for expected owners
  for (let g = 0; g < o.groups; g++) {
    const members = new Set();
    const n = 3 + pick(6);
    for (let k = 0; k < n; k++) members.add(pick(o.users));
    groupUsers.push([...members]);
    const refs = [...members].map((i) => upns[i]);
    const chainLen = o.nestingDepth + 1;
    if (o.nestingDepth > 0 && g % chainLen !== chainLen - 1 && g + 1 < o.groups) refs.push(`SG-Scale-${pad(g + 1, 4)}`);
    groups.push({ name: `SG-Scale-${pad(g, 4)}`, displayName: `SG Scale ${g}`, primarySmtpAddress: `sg-scale-${g}@${d}`, type: 'security', members: refs });
  }
  const expandGroup = (g, seen = new Set()) => {
    if (seen.has(g)) return [];
    seen.add(g);
    const out = [...groupUsers[g]];
    const chainLen = o.nestingDepth + 1;
    if (o.nestingDepth > 0 && g % chainLen !== chainLen - 1 && g + 1 < o.groups) out.push(...expandGroup(g + 1, seen));
    return out;
  };

  const mailboxes = [];
  const hidGroups = [];
  let expectedAdds = 0;
  let staleMembers = 0;
  for (let m = 0; m < o.mailboxes; m++) {
    const displayName = `Shared ${pad(m, mw)}`;
    const holders = new Set();
    while (holders.size < Math.min(o.holdersPerMailbox, o.users)) holders.add(pick(o.users));
    const permissions = [...holders].map((i) => ({ user: upns[i], accessRights: ['FullAccess'] }));
    const owners = new Set(holders);
    if (o.groups > 0 && rnd() < 0.1) {
      const g = pick(o.groups);
      permissions.push({ user: groups[g].name, accessRights: ['FullAccess'] });
      for (const i of expandGroup(g)) owners.add(i);
    }
    if (rnd() < 0.02) permissions.push({ user: `S-1-5-21-1004336348-1177238915-682003330-${1000 + m}`, accessRights: ['FullAccess'] });
    if (rnd() < 0.05) permissions.push({ user: upns[pick(o.users)], accessRights: ['ReadPermission'] });
    if (rnd() < 0.02) permissions.push({ user: upns[pick(o.users)], accessRights: ['FullAccess'], deny: true });
    permissions.push({ user: 'NAMPR01A001\\Organization Management', accessRights: ['FullAccess'], isInherited: true });
    mailboxes.push({ displayName, primarySmtpAddress: `shared${pad(m, mw)}@${d}`, permissions });

    // Owner group (every 100th mailbox has none); current members: most desired owners, sometimes a stale one.
    if (m % 100 === 99 || hidGroups.length >= helloidGroups) continue;
    const members = [];
    for (const i of owners) {
      if (!hasHelloId(i)) continue;
      if (rnd() < o.inSync) members.push(upns[i]);
      else expectedAdds++;
    }
    if (rnd() < o.staleRate) {
      const i = pick(o.users);
      if (hasHelloId(i) && !owners.has(i)) {
        members.push(upns[i]);
        staleMembers++;
      }
    }
    hidGroups.push({ name: `${displayName} Resource Owners`, members });
  }
  for (let f = 0; hidGroups.length < helloidGroups; f++) {
    const members = [];
    const n = pick(4);
    for (let k = 0; k < n; k++) {
      const i = pick(o.users);
      if (hasHelloId(i) && !members.includes(upns[i])) members.push(upns[i]);
    }
    hidGroups.push({ name: `Filler Group ${pad(f, 5)}`, source: f % 7 === 0 ? 'AzureAD' : 'Local', members });
  }

  const fixture = {
    formatVersion: 1,
    tenant: { id: o.tenantId, organization: `${d.split('.')[0]}.onmicrosoft.com`, displayName: `Scale tenant (seed ${o.seed})` },
    apps: [{ clientId: o.clientId, displayName: 'ownersync (scale)', secret: o.secret }],
    exchange: { selfPermissionRows: true, users: exUsers, mailboxes, groups },
    helloid: { apiKeys: [{ key: o.helloidKey, secret: o.helloidSecret }], users: hidUsers, groups: hidGroups },
  };
  Object.defineProperty(fixture, 'summary', {
    enumerable: false,
    value: { mailboxes: mailboxes.length, users: exUsers.length, helloidUsers: hidUsers.length, exchangeGroups: groups.length, helloidGroups: hidGroups.length, approxAdds: expectedAdds, staleMembers },
  });
  return fixture;
}

async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      mailboxes: { type: 'string' },
      users: { type: 'string' },
      'holders-per-mailbox': { type: 'string' },
      groups: { type: 'string' },
      'nesting-depth': { type: 'string' },
      'helloid-groups': { type: 'string' },
      seed: { type: 'string' },
      'in-sync': { type: 'string' },
      out: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stderr.write(
      'usage: generate-tenant.js [--mailboxes N] [--users N] [--holders-per-mailbox N] [--groups N]\n' +
        '                          [--nesting-depth N] [--helloid-groups N] [--seed N] [--in-sync 0..1] [--out FILE(.json|.yaml)]\n',
    );
    return;
  }
  const int = (v) => (v === undefined ? undefined : Number(v));
  const t0 = Date.now();
  const fx = generateTenant({
    mailboxes: int(values.mailboxes),
    users: int(values.users),
    holdersPerMailbox: int(values['holders-per-mailbox']),
    groups: int(values.groups),
    nestingDepth: int(values['nesting-depth']),
    helloidGroups: int(values['helloid-groups']),
    seed: int(values.seed),
    inSync: values['in-sync'] === undefined ? undefined : Number(values['in-sync']),
  });
  let text;
  if (!values.out || values.out.toLowerCase().endsWith('.json')) {
    text = JSON.stringify(fx);
  } else {
    const { stringify } = await import('yaml');
    text = stringify(fx, { lineWidth: 0 });
  }
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  const s = fx.summary;
  process.stderr.write(
    `generated ${s.mailboxes} shared mailboxes, ${s.users} Exchange users (${s.helloidUsers} in HelloID), ` +
      `${s.exchangeGroups} mail-enabled groups, ${s.helloidGroups} HelloID groups; ~${s.approxAdds} adds, ` +
      `${s.staleMembers} stale members; ${(text.length / 1e6).toFixed(1)} MB in ${Date.now() - t0} ms` +
      `${values.out ? ` -> ${values.out}` : ''}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`generate-tenant: ${e.message}\n`);
    process.exitCode = 1;
  });
}
