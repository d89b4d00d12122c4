// Benchmark of the pure sync engine (src/core): computeDesiredState + computeDiff on
// synthetic tenants of 10k, 100k and 1M desired FullAccess memberships.
//
// Each size runs in its own child process so that peak RSS is per size, not the
// high-water mark of everything before it. Run with `npm run bench:core` (builds first),
// or `node bench/core-bench.js [size …]` after a build. Figures are printed, never asserted.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SIZES = [10_000, 100_000, 1_000_000];
const HOLDERS_PER_MAILBOX = 100;
const REPS = 3;

// ---------------------------------------------------------------------------------
// Child: generate one tenant, time the engine, print one JSON line.

/** Small seeded PRNG (mulberry32): the same tenant every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Real snapshots are parsed from JSON: flat strings, a separate string object per
 * occurrence. Each generated object goes through JSON as it is made, which gives the
 * bench that shape without a second copy of the tenant inflating peak RSS.
 */
function rt(x) {
  return JSON.parse(JSON.stringify(x));
}

function hex(n, width) {
  return n.toString(16).padStart(width, '0');
}
function guid(kind, n) {
  return `${hex(kind, 8)}-0000-4000-8000-${hex(n, 12)}`;
}

/**
 * A tenant with `target` desired memberships: mailboxes of ~100 holders each, about 70%
 * granted directly and 30% through mail-enabled groups (some nested, some in a cycle),
 * plus the noise every real tenant has (NT AUTHORITY\SELF, SIDs, inherited, Deny and
 * ReadPermission rows). HelloID has one owner group per mailbox plus as many unrelated
 * groups, and its owner groups overlap the desired state partially (~80% already there,
 * ~5% stale members), with ~2% of Exchange users missing from HelloID.
 */
function generate(target) {
  const rand = rng(target);
  const mailboxCount = Math.max(1, Math.round(target / HOLDERS_PER_MAILBOX));
  const userCount = Math.max(2_000, Math.round(target / 20));
  const users = [];
  for (let i = 0; i < userCount; i++) {
    users.push({
      userPrincipalName: `user${i}@contoso.com`,
      displayName: `User ${i}`,
      externalDirectoryObjectId: guid(1, i),
      guid: guid(2, i),
    });
  }

  // Groups of 10 user members; every 10th has a nested group of 5; every 50th pair forms a cycle.
  const groupCount = Math.max(50, Math.round(mailboxCount / 2));
  const groups = [];
  for (let g = 0; g < groupCount; g++) {
    const members = [];
    for (let k = 0; k < 10; k++) {
      const u = users[(g * 131 + k * 17) % userCount];
      members.push({ name: `user${(g * 131 + k * 17) % userCount}`, primarySmtpAddress: u.userPrincipalName, externalDirectoryObjectId: u.externalDirectoryObjectId, guid: u.guid, recipientTypeDetails: 'UserMailbox' });
    }
    groups.push({ name: `SG-${g}`, displayName: `SG ${g}`, primarySmtpAddress: `sg-${g}@contoso.com`, guid: guid(3, g), externalDirectoryObjectId: guid(4, g), recipientTypeDetails: 'MailUniversalSecurityGroup', members });
  }
  for (let g = 0; g < groupCount; g += 10) {
    const nestedIdx = groups.length;
    const members = [];
    for (let k = 0; k < 5; k++) {
      const i = (g * 71 + k * 29 + 7) % userCount;
      members.push({ name: `user${i}`, externalDirectoryObjectId: users[i].externalDirectoryObjectId, recipientTypeDetails: 'UserMailbox' });
    }
    groups.push({ name: `SG-nested-${g}`, guid: guid(3, nestedIdx), recipientTypeDetails: 'MailUniversalSecurityGroup', members });
    groups[g].members.push({ name: `SG-nested-${g}`, guid: guid(3, nestedIdx), recipientTypeDetails: 'MailUniversalSecurityGroup' });
    if (g % 50 === 0) members.push({ name: `SG-${g}`, guid: guid(3, g), recipientTypeDetails: 'MailUniversalSecurityGroup' });
  }

  const FULL = ['FullAccess'];
  const mailboxes = [];
  for (let m = 0; m < mailboxCount; m++) {
    const permissions = [
      { trustee: 'NT AUTHORITY\\SELF', accessRights: ['FullAccess', 'ReadPermission'], isInherited: 'False', deny: 'False' },
      { trustee: 'S-1-5-21-1-2-3-500', accessRights: FULL, isInherited: false, deny: false },
      { trustee: 'CONTOSO\\Domain Admins', accessRights: FULL, isInherited: 'True', deny: 'False' },
    ];
    // 3 group trustees (~30 holders), the rest direct.
    for (let k = 0; k < 3; k++) permissions.push({ trustee: `SG-${(m * 3 + k) % groupCount}`, accessRights: FULL, isInherited: 'False', deny: 'False' });
    const base = (m * 977) % userCount;
    for (let k = 0; k < HOLDERS_PER_MAILBOX - 30; k++) {
      const u = users[(base + k * 3) % userCount];
      permissions.push({ trustee: k % 20 === 1 ? u.userPrincipalName.toUpperCase() : u.userPrincipalName, accessRights: k % 10 === 0 ? 'FullAccess, ReadPermission' : FULL, isInherited: k % 3 ? 'False' : false, deny: 'False' });
    }
    permissions.push({ trustee: users[(base + 1) % userCount].userPrincipalName, accessRights: ['ReadPermission'], isInherited: 'False', deny: 'False' });
    permissions.push({ trustee: users[(base + 2) % userCount].userPrincipalName, accessRights: FULL, isInherited: 'False', deny: 'True' });
    mailboxes.push(rt({ guid: guid(5, m), displayName: m % 97 === 0 ? `Café ${m}` : `Shared ${m}`, primarySmtpAddress: `shared${m}@contoso.com`, permissions }));
  }

  const helloUsers = [];
  for (let i = 0; i < userCount; i++) {
    if (i % 50 === 49) continue; // ~2% not provisioned in HelloID
    helloUsers.push(rt({ userGuid: i % 100 === 3 ? guid(6, i).toUpperCase() : guid(6, i), userName: `user${i}@contoso.com` }));
  }
  return { exchange: { mailboxes, users: users.map(rt), groups: groups.map(rt) }, helloUsers, rand, mailboxCount, userCount };
}

function helloidSide(t, desired) {
  const { rand, userCount } = t;
  const hgroups = [];
  for (const mb of desired.mailboxes) {
    const members = [];
    for (const h of mb.holders) {
      if (rand() < 0.8) {
        const g = guid(6, Number(h.userPrincipalName.slice(4, h.userPrincipalName.indexOf('@'))));
        members.push(rand() < 0.01 ? g.toUpperCase() : g); // HelloID sends lowercase; a few odd ones
      }
    }
    const stale = Math.round(mb.holders.length * 0.05);
    for (let k = 0; k < stale; k++) members.push(guid(6, Math.floor(rand() * userCount)));
    // Names folded of diacritics for some ("Cafe …" for mailbox "Café …").
    const name = mb.ownerGroupName.startsWith('Café') ? mb.ownerGroupName.replace('Café', 'Cafe') : mb.ownerGroupName;
    hgroups.push(rt({ groupGuid: guid(7, hgroups.length), name, source: hgroups.length % 2 ? null : 'Local', members }));
  }
  const owners = hgroups.length;
  for (let k = 0; k < owners; k++) {
    hgroups.push({ groupGuid: guid(8, k), name: `Department ${k}`, source: k % 3 ? 'AzureAD' : '', members: null });
  }
  return { users: t.helloUsers, groups: hgroups };
}

/**
 * CPU time of the main thread alone, in ms (Linux /proc; undefined elsewhere). On a
 * shared machine wall time includes waiting for a core; this does not, and unlike
 * process.cpuUsage() it excludes the GC helper threads.
 */
function mainThreadCpuMs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
  } catch {
    return undefined;
  }
}

function mb(bytes) {
  return Math.round(bytes / 1024 / 1024);
}

async function child(size) {
  const core = await import('../dist/core/index.js');
  const opts = {
    groupSource: 'Local',
    groupPrefix: '',
    groupSuffix: ' Resource Owners',
    removeMembers: true,
    protectedUsers: ['user0@contoso.com'],
    expandGroups: true,
    limits: { maxRemovals: 100, maxRemovalPercent: 25, allowEmptyingGroups: false },
  };
  const t = generate(size);
  // HelloID's current members are derived from a desired state computed once up front
  // (partial overlap by construction); that first run doubles as a warm-up.
  const helloid = helloidSide(t, core.computeDesiredState(t.exchange, opts));
  const exchange = t.exchange;

  // Best of REPS runs: the machine is shared, and the minimum is the least disturbed.
  let best;
  for (let rep = 0; rep < REPS; rep++) {
    globalThis.gc?.();
    const rssInput = process.memoryUsage().rss;
    const c0 = process.cpuUsage();
    const m0 = mainThreadCpuMs();
    const t0 = performance.now();
    const desired = core.computeDesiredState(exchange, opts);
    const t1 = performance.now();
    const diff = core.computeDiff(desired, helloid, opts);
    const t2 = performance.now();
    const cpu = process.cpuUsage(c0);
    const m1 = mainThreadCpuMs();
    const heapAfter = process.memoryUsage().heapUsed;
    let memberships = 0;
    for (const m of desired.mailboxes) memberships += m.holders.length;
    const run = {
      size,
      memberships,
      mailboxes: desired.mailboxes.length,
      desiredMs: t1 - t0,
      diffMs: t2 - t1,
      totalMs: t2 - t0,
      cpuMs: (cpu.user + cpu.system) / 1000,
      mainCpuMs: m0 === undefined || m1 === undefined ? undefined : m1 - m0,
      adds: diff.changes.filter((c) => c.action === 'add').length,
      removes: diff.changes.filter((c) => c.action === 'remove').length,
      kept: diff.kept.length,
      warnings: diff.warnings.length,
      rssInputMb: mb(rssInput),
      heapAfterMb: mb(heapAfter),
    };
    if (!best || run.totalMs < best.totalMs) best = run;
  }
  best.peakRssMb = mb(process.resourceUsage().maxRSS * 1024);
  process.stdout.write(JSON.stringify(best) + '\n');
}

// ---------------------------------------------------------------------------------
// Parent: one child per size, then a table.

function pad(s, n) {
  return String(s).padStart(n);
}

function parent(sizes) {
  const self = fileURLToPath(import.meta.url);
  const rows = [];
  for (const size of sizes) {
    // Default heap limits, as the CLI runs; --expose-gc only to collect between repetitions.
    const r = spawnSync(process.execPath, ['--expose-gc', self, '--child', String(size)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) {
      console.error(`size ${size}: child exited with ${r.status}`);
      process.exitCode = 1;
      continue;
    }
    rows.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  console.log(`core engine: computeDesiredState + computeDiff, one child process per size, best of ${REPS} runs`);
  console.log('(main cpu: main thread only, no waiting; cpu: all threads incl. GC helpers; peak RSS includes the generated input, "input RSS" is before the timed run)');
  console.log(`${pad('memberships', 11)} ${pad('mailboxes', 9)} ${pad('desired ms', 10)} ${pad('diff ms', 8)} ${pad('total ms', 8)} ${pad('µs/memb', 7)} ${pad('main cpu', 8)} ${pad('cpu ms', 7)} ${pad('adds', 7)} ${pad('removes', 7)} ${pad('kept', 6)} ${pad('warnings', 8)} ${pad('input RSS MB', 12)} ${pad('peak RSS MB', 11)} ${pad('heap after MB', 13)}`);
  for (const r of rows) {
    console.log(`${pad(r.memberships, 11)} ${pad(r.mailboxes, 9)} ${pad(r.desiredMs.toFixed(0), 10)} ${pad(r.diffMs.toFixed(0), 8)} ${pad(r.totalMs.toFixed(0), 8)} ${pad(((r.totalMs * 1000) / r.memberships).toFixed(2), 7)} ${pad(r.mainCpuMs === undefined ? '-' : r.mainCpuMs.toFixed(0), 8)} ${pad(r.cpuMs.toFixed(0), 7)} ${pad(r.adds, 7)} ${pad(r.removes, 7)} ${pad(r.kept, 6)} ${pad(r.warnings, 8)} ${pad(r.rssInputMb, 12)} ${pad(r.peakRssMb, 11)} ${pad(r.heapAfterMb, 13)}`);
  }
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1];
    const b = rows[i];
    console.log(`growth ${a.memberships} → ${b.memberships} (×${(b.memberships / a.memberships).toFixed(1)}): time ×${(b.totalMs / a.totalMs).toFixed(1)}, peak RSS ×${(b.peakRssMb / a.peakRssMb).toFixed(1)}`);
  }
}

export { generate, helloidSide };

// Run only when executed, so experiments can import the generator.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    await child(Number(args[1]));
  } else {
    parent(args.length ? args.map(Number) : SIZES);
  }
}
