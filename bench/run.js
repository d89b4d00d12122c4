#!/usr/bin/env node
/**
 * Tenant-scale benchmark of `ownersync plan` and `apply` against the emulator.
 *
 *   npm run bench                       # build, then the three runs of the README table (--suite)
 *   node bench/run.js                   # the full-scale run alone (5,000 mailboxes, plan + apply)
 *   node bench/run.js --small           # quick smoke run (after a build)
 *   node bench/run.js --fail-rate 0.1   # 10% of requests answered 429/503
 *
 * Generates a tenant with bench/generate-tenant.js (HelloID owner groups mostly not in
 * sync, so the plan holds about --changes adds), starts `ownersync emulator` in its own
 * process with a fixed latency L per request and a concurrency limit C per service
 * (429 + Retry-After above it), runs `plan`, `approve` and `apply` as separate
 * processes and prints, per command: wall time, requests, 429s and max in-flight per
 * service (from the emulator's own counters), peak RSS (a preload reports
 * process.resourceUsage().maxRSS at exit) and two ratios from the same run:
 *
 *   speedup  = (round trips of the original algorithm × L) ÷ wall time
 *              original: one request at a time, one permission read per mailbox, one
 *              member read per HelloID group of the tenant, plus the listing pages
 *   vs floor = wall time ÷ max over services of (fewest round trips ÷ C × L)
 *
 * The emulator checks C per HTTP request, so a `$batch` of 10 permission reads is one
 * request against C: the Exchange floor counts it as one round trip (see floors()).
 * Figures are reported, never asserted. Results: bench/results/latest.json and
 * bench/results/README-table.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULTS as TENANT_DEFAULTS, generateTenant } from './generate-tenant.js';
import { readPlan } from '../dist/plan/plan-file.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'run.js');
const PRELOAD = pathToFileURL(join(ROOT, 'bench', 'maxrss-preload.js')).href;
const RESULTS = join(ROOT, 'bench', 'results');
/** Server-side page caps of the emulator (exchange.maxPageSize, helloid.maxTake). */
const EXCHANGE_PAGE = 1000;
const HELLOID_PAGE = 1000;
const BATCH = 10;

const FULL = { mailboxes: 5000, users: 20000, holders: 4, helloidGroups: 10000, latency: 40, concurrency: 10 };
const SMALL = { mailboxes: 500, users: 2000, holders: 4, helloidGroups: 1000, latency: 40, concurrency: 10 };

// ---------------------------------------------------------------------------------
// Arguments

function usage() {
  return [
    'usage: node bench/run.js [--suite] [--small] [--mailboxes N] [--users N] [--holders N] [--helloid-groups N]',
    '                         [--latency MS] [--concurrency C] [--fail-rate X] [--retry-after S]',
    '                         [--changes N] [--apply-concurrency N] [--skip-apply] [--replan] [--seed N]',
    '                         [--workdir DIR] [--keep] [--no-results]',
    '  --small              quick preset: 500 mailboxes, 2,000 users, 1,000 HelloID groups',
    '  --mailboxes N        tenant size; users and HelloID groups default to 4 and 2 per mailbox',
    '  --suite              the three runs of the README table, one after another: --replan,',
    '                       --fail-rate 0.1, and --mailboxes 20000 --skip-apply --replan',
    '  --replan             plan a second time over the first plan\'s desired-state.yaml with 1% of',
    '                       its holders changed: the daily CI run, which also diffs the two files',
    '  --changes N          adds the plan should hold (default 2 × mailboxes: 10,000 at full scale)',
    '  --apply-concurrency  apply.concurrency in the generated config (default C)',
    '  --workdir DIR        where fixture, config, plan and journal go (default: a temp dir)',
    '  --no-results         do not write bench/results/*',
  ].join('\n');
}

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      small: { type: 'boolean' },
      suite: { type: 'boolean' },
      mailboxes: { type: 'string' },
      users: { type: 'string' },
      holders: { type: 'string' },
      'helloid-groups': { type: 'string' },
      latency: { type: 'string' },
      concurrency: { type: 'string' },
      'fail-rate': { type: 'string' },
      'retry-after': { type: 'string' },
      changes: { type: 'string' },
      'apply-concurrency': { type: 'string' },
      'skip-apply': { type: 'boolean' },
      replan: { type: 'boolean' },
      seed: { type: 'string' },
      workdir: { type: 'string' },
      keep: { type: 'boolean' },
      'no-results': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  const base = values.small ? SMALL : FULL;
  const int = (name, fallback) => {
    const v = values[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  const num = (name, fallback, max) => {
    const v = values[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > max) throw new Error(`--${name} must be a number between 0 and ${max}`);
    return n;
  };
  const o = {
    suite: Boolean(values.suite),
    small: Boolean(values.small),
    mailboxes: int('mailboxes', base.mailboxes),
    holders: int('holders', base.holders),
    latency: int('latency', base.latency),
    concurrency: int('concurrency', base.concurrency),
    failRate: num('fail-rate', 0, 1),
    retryAfter: values['retry-after'],
    seed: int('seed', 7),
    skipApply: Boolean(values['skip-apply']),
    replan: Boolean(values.replan),
    workdir: values.workdir,
    keep: Boolean(values.keep),
    writeResults: !values['no-results'],
  };
  // Users and HelloID groups grow with --mailboxes at the presets' ratios (4 and 2 per mailbox).
  o.users = int('users', (o.mailboxes * base.users) / base.mailboxes);
  o.helloidGroups = int('helloid-groups', (o.mailboxes * base.helloidGroups) / base.mailboxes);
  o.changes = int('changes', 2 * o.mailboxes);
  o.applyConcurrency = int('apply-concurrency', Math.min(32, Math.max(1, o.concurrency)));
  if (o.concurrency < 1) throw new Error('--concurrency must be at least 1');
  if (o.applyConcurrency < 1 || o.applyConcurrency > 32) throw new Error('--apply-concurrency must be 1..32 (apply.concurrency)');
  return o;
}

// ---------------------------------------------------------------------------------
// Tenant

/**
 * A tenant whose owner groups hold about `changes` fewer owners than Exchange says:
 * the generator's `inSync` is the share of desired owners already present, and its
 * random sequence does not depend on inSync, so a first pass at inSync 0 counts the
 * desired owners and the second pass picks the share that leaves `changes` adds.
 */
function makeTenant(o) {
  const common = { mailboxes: o.mailboxes, users: o.users, holdersPerMailbox: o.holders, helloidGroups: o.helloidGroups, seed: o.seed, staleRate: 0 };
  const all = generateTenant({ ...common, inSync: 0 }).summary.approxAdds;
  const inSync = all > 0 ? Math.min(1, Math.max(0, 1 - o.changes / all)) : 1;
  const fixture = generateTenant({ ...common, inSync });
  return { fixture, inSync, desiredOwners: all };
}

/** Round trips the original algorithm and the fewest-possible client need, from the fixture alone. */
function roundTrips(fixture) {
  const ex = fixture.exchange;
  const hid = fixture.helloid;
  const M = ex.mailboxes.length;
  const pages = (n, size) => Math.max(1, Math.ceil(n / size));
  // HelloID lists end at a short or empty page: a full last page needs one more request.
  const hidPages = (n) => Math.floor(n / HELLOID_PAGE) + 1;
  const ownerNames = new Set(ex.mailboxes.map((m) => `${m.displayName} Resource Owners`.toLowerCase()));
  const ownerGroups = hid.groups.filter((g) => (g.source ?? 'Local') === 'Local' && ownerNames.has(g.name.toLowerCase())).length;

  // Group trustees (FullAccess, not denied, not inherited) and the groups behind them, level by level.
  const groupByName = new Map(ex.groups.map((g) => [g.name.toLowerCase(), g]));
  const trustees = new Set();
  for (const m of ex.mailboxes) {
    for (const p of m.permissions ?? []) {
      if (!p.accessRights.includes('FullAccess') || p.deny || p.isInherited) continue;
      if (groupByName.has(p.user.toLowerCase())) trustees.add(p.user.toLowerCase());
    }
  }
  const levels = [];
  const seen = new Set();
  let frontier = [...trustees];
  while (frontier.length > 0) {
    const level = frontier.filter((n) => !seen.has(n));
    level.forEach((n) => seen.add(n));
    if (level.length === 0) break;
    levels.push(level.length);
    frontier = level.flatMap((n) => (groupByName.get(n)?.members ?? []).map((x) => x.toLowerCase()).filter((x) => groupByName.has(x)));
  }

  const exchangeListing = pages(M, EXCHANGE_PAGE) + pages(ex.users.length + M, EXCHANGE_PAGE);
  const helloidListing = hidPages(hid.users.length) + hidPages(hid.groups.length);
  return {
    mailboxes: M,
    helloidGroups: hid.groups.length,
    ownerGroups,
    groupTrustees: trustees.size,
    groupsExpanded: seen.size,
    original: {
      // Get-Mailbox pages + one Get-MailboxPermission per mailbox; HelloID lists + one member read per group.
      exchange: pages(M, EXCHANGE_PAGE) + M,
      helloid: helloidListing + hid.groups.length,
    },
    floor: {
      // $batch holds 10 cmdlets and counts as one request against C: Get-Recipient for the
      // group trustees and Get-DistributionGroupMember per nesting level batch the same way.
      exchange: exchangeListing + Math.ceil(M / BATCH) + Math.ceil(trustees.size / BATCH) + levels.reduce((s, n) => s + Math.ceil(n / BATCH), 0),
      helloid: helloidListing + ownerGroups,
    },
  };
}

// ---------------------------------------------------------------------------------
// Emulator

/** Start `ownersync emulator` in its own process; resolve once its banner is printed. */
function startEmulator(o, fixturePath, controlToken) {
  // The request log holds every request of the largest run, so its timeline is complete.
  const args = [BIN, 'emulator', '--fixture', fixturePath, '--port', '0', '--latency', String(o.latency), '--concurrency', String(o.concurrency), '--control-token', controlToken, '--seed', String(o.seed), '--log-limit', '100000'];
  if (o.failRate > 0) args.push('--fail-rate', String(o.failRate));
  if (o.retryAfter !== undefined) args.push('--retry-after', String(o.retryAfter));
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  return new Promise((resolveStart, reject) => {
    const fail = (why) => {
      child.kill('SIGTERM');
      reject(new Error(`emulator: ${why}\n${err.trim()}`));
    };
    const timer = setTimeout(() => fail('no banner within 120 s'), 120_000);
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!out.includes('Press Ctrl+C')) reject(new Error(`emulator exited (${code}) before it was ready\n${err.trim()}`));
    });
    child.stdout.on('data', (d) => {
      out += d;
      if (!out.includes('Press Ctrl+C')) return;
      clearTimeout(timer);
      const url = /base URL\s+(https:\/\/\S+)/.exec(out)?.[1];
      const caPath = /^\s*CA\s+(\S.*)$/m.exec(out)?.[1]?.trim();
      const env = {};
      for (const m of out.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) env[m[1]] = unquote(m[2]);
      if (!url || !caPath) return fail(`cannot read the banner:\n${out}`);
      resolveStart({ child, url, caPath, ca: readFileSync(caPath, 'utf8'), env });
    });
  });
}

function unquote(v) {
  return v.startsWith("'") && v.endsWith("'") ? v.slice(1, -1).replace(/'\\''/g, "'") : v;
}

function control(emu, token, method, path) {
  return new Promise((resolveReq, reject) => {
    const req = httpsRequest(`${emu.url}${path}`, { method, ca: emu.ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${method} ${path}: ${res.statusCode} ${body.slice(0, 200)}`));
        resolveReq(JSON.parse(body));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function stopEmulator(emu) {
  return new Promise((done) => {
    if (emu.child.exitCode !== null) return done();
    emu.child.once('exit', () => done());
    emu.child.kill('SIGTERM');
    setTimeout(() => emu.child.kill('SIGKILL'), 10_000).unref();
  });
}

// ---------------------------------------------------------------------------------
// CLI runs

/** Run `ownersync <args>` in its own process; wall time from spawn to exit, rusage from the preload. */
function runCli(args, { env, cwd, outFile, measure = true }) {
  const rusageFile = join(cwd, `rusage-${args[0]}-${randomBytes(4).toString('hex')}.json`);
  const nodeArgs = measure ? ['--import', PRELOAD, BIN, ...args] : [BIN, ...args];
  const out = createWriteStream(outFile);
  const startedAt = Date.now();
  const started = performance.now();
  const child = spawn(process.execPath, nodeArgs, {
    cwd,
    env: { ...env, ...(measure ? { OWNERSYNC_BENCH_RUSAGE: rusageFile } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolveRun) => {
    child.on('exit', (code, signal) => {
      const wallMs = performance.now() - started;
      let rusage;
      try {
        rusage = JSON.parse(readFileSync(rusageFile, 'utf8'));
      } catch {
        rusage = undefined;
      }
      out.end(() => resolveRun({ code, signal, wallMs, startedAt, rusage, stderr }));
    });
  });
}

/**
 * Where the wall time goes, from the emulator's request log (each entry: end time and
 * duration): start-up until the first request, the first HelloID member read, the end
 * of the last Exchange \$batch, the last request, and the tail after it (writing and
 * hashing the output, exit). Offsets in ms from spawn. The log keeps the latest 10,000
 * requests, so for a longer run the early marks are missing (null).
 */
function timeline(stats, run) {
  const entries = stats.log.map((e) => ({ ...e, end: Date.parse(e.at) - run.startedAt, start: Date.parse(e.at) - e.ms - run.startedAt }));
  if (entries.length === 0) return undefined;
  const complete = stats.totals.requests <= entries.length;
  const first = (pred) => {
    const hit = entries.filter(pred);
    return complete && hit.length > 0 ? Math.round(Math.min(...hit.map((e) => e.start))) : null;
  };
  const lastEnd = (pred) => {
    const hit = entries.filter(pred);
    return hit.length > 0 ? Math.round(Math.max(...hit.map((e) => e.end))) : null;
  };
  const lastRequestEnd = lastEnd(() => true);
  // Mean time the emulator took per request (L plus its own work): above L, the emulator is what is slow.
  const helloid = entries.filter((e) => e.service === 'helloid' && e.status < 400);
  const meanHelloIdMs = helloid.length > 0 ? helloid.reduce((sum, e) => sum + e.ms, 0) / helloid.length : null;
  return {
    meanHelloIdMs,
    firstRequest: first(() => true),
    firstHelloIdMemberRead: first((e) => e.service === 'helloid' && e.method === 'GET' && e.route === '/api/v1/groups/{group}'),
    lastExchangeBatchEnd: lastEnd((e) => e.route.endsWith('$batch')),
    lastRequestEnd,
    tailAfterLastRequest: lastRequestEnd === null ? null : Math.round(run.wallMs - lastRequestEnd),
  };
}

/**
 * Change every `every`-th holder line of a desired-state.yaml, as Exchange changes
 * between two daily runs would: the replan then diffs the two files (exchangeChanges).
 */
function changeHolders(path, every) {
  const lines = readFileSync(path, 'utf8').split('\n');
  let seen = 0;
  let changed = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s+- upn: /.test(lines[i]) || seen++ % every !== 0) continue;
    lines[i] = lines[i].replace('- upn: ', '- upn: former.');
    changed++;
  }
  writeFileSync(path, lines.join('\n'));
  return changed;
}

function serviceFigures(stats) {
  const pick = (s) => ({ requests: s.requests, status429: s.status429, status5xx: s.status5xx, maxInFlight: s.maxInFlight });
  return { exchange: pick(stats.services.exchange), helloid: pick(stats.services.helloid), entra: pick(stats.services.entra) };
}

// ---------------------------------------------------------------------------------
// Output

const fmtS = (ms) => `${(ms / 1000).toFixed(2)} s`;
const fmtX = (x) => `${x.toFixed(2)}×`;
const fmtN = (n) => n.toLocaleString('en-US');

function tableRows(results) {
  const rows = [];
  for (const r of results) {
    const svc = r.services;
    const used = ['exchange', 'helloid'].filter((s) => svc[s].requests > 0);
    rows.push({
      command: r.command,
      status: r.exitCode === 0 ? 'ok' : `exit ${r.exitCode}`,
      wall: fmtS(r.wallMs),
      requests: used.map((s) => `${s} ${fmtN(svc[s].requests)}`).join(', ') + (svc.entra.requests ? `, entra ${svc.entra.requests}` : ''),
      throttled: used.map((s) => `${s} ${fmtN(svc[s].status429)}`).join(', '),
      maxInFlight: used.map((s) => `${s} ${svc[s].maxInFlight}`).join(', '),
      rss: r.maxRssMB === undefined ? 'n/a' : `${r.maxRssMB.toFixed(0)} MB`,
      baseline: fmtS(r.baselineMs),
      speedup: fmtX(r.speedup),
      floor: fmtS(r.floorMs),
      vsFloor: fmtX(r.vsFloor),
    });
  }
  return rows;
}

const HEAD = ['command', 'status', 'wall', 'requests', '429s', 'max in-flight', 'peak RSS', 'sequential baseline', 'speedup', 'floor', 'wall ÷ floor'];
const KEYS = ['command', 'status', 'wall', 'requests', 'throttled', 'maxInFlight', 'rss', 'baseline', 'speedup', 'floor', 'vsFloor'];

function textTable(rows) {
  const cells = [HEAD, ...rows.map((r) => KEYS.map((k) => r[k]))];
  const widths = HEAD.map((_, i) => Math.max(...cells.map((c) => String(c[i]).length)));
  const line = (c) => c.map((v, i) => String(v).padEnd(widths[i])).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function markdownTable(rows) {
  return [`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${KEYS.map((k) => r[k]).join(' | ')} |`)].join('\n');
}

const README_HEAD = [
  '# ownersync tenant-scale benchmark',
  '',
  'Written by `bench/run.js` (`npm run bench`): the latest run of each command line. Each section',
  'names its machine and the load average, because other processes slow both the CLI and the',
  'emulator.',
  '',
  '- sequential baseline: round trips of the original task (one permission read per mailbox, one',
  '  member read per HelloID group, plus listing pages), one at a time, × L.',
  "- floor: max over Exchange and HelloID of (fewest round trips ÷ C × L). The emulator counts a",
  '  `$batch` of 10 permission reads as one request against its concurrency limit, so it counts as one',
  '  round trip. Apply: (one drift-check read per planned group + one write per change) ÷ C × L.',
  '',
].join('\n');

function readText(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** README text with the section for `key` replaced (or added), other sections kept. */
function mergeSection(text, key, section) {
  const sections = text.split(/^(?=## )/m).filter((part) => part.startsWith('## '));
  const heading = `## \`${key}\``;
  const kept = sections.filter((part) => part.split('\n')[0] !== heading);
  return [README_HEAD, ...[...kept, section].map((part) => `${part.trimEnd()}\n`)].join('\n');
}

// ---------------------------------------------------------------------------------

/** The runs of the README table (`--suite`). Each is its own process, so one run's memory and sockets do not weigh on the next. */
const SUITE = [['--replan'], ['--fail-rate', '0.1'], ['--mailboxes', '20000', '--skip-apply', '--replan']];

/** Where a run started by --suite leaves its figures for the summary. */
const SUITE_OUT = 'OWNERSYNC_BENCH_SUITE_OUT';

async function suite(extra) {
  const runs = [];
  const dir = mkdtempSync(join(tmpdir(), 'ownersync-bench-suite-'));
  try {
    for (const [i, args] of SUITE.entries()) {
      const out = join(dir, `run-${i}.json`);
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args, ...extra], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, [SUITE_OUT]: out } });
      const code = await new Promise((done) => child.on('exit', (c) => done(c ?? 1)));
      if (code !== 0) process.exitCode = code;
      try {
        runs.push(JSON.parse(readFileSync(out, 'utf8')));
      } catch {
        // The run failed before its figures: nothing to sum up for it.
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const lines = [];
  for (const run of runs) {
    for (const r of run.results) {
      lines.push(`${run.command.replace(/^node bench\/run.js ?/, '') || '(default)'}: ${r.command} ${fmtS(r.wallMs)} = ${fmtX(r.vsFloor)} floor` + (r.maxRssMB !== undefined ? `, peak RSS ${r.maxRssMB.toFixed(0)} MB` : ''));
    }
  }
  // Growth of the peak RSS per extra 10,000 mailboxes, from the smallest and the largest run, for plan and for replan.
  for (const command of ['plan', 'replan']) {
    const sizes = runs
      .map((run) => ({ mailboxes: run.options.mailboxes, rss: run.results.find((r) => r.command === command)?.maxRssMB }))
      .filter((p) => p.rss !== undefined)
      .sort((a, b) => a.mailboxes - b.mailboxes);
    const small = sizes[0];
    const large = sizes.at(-1);
    if (small && large && large.mailboxes > small.mailboxes) {
      lines.push(`${command} peak RSS grows ${(((large.rss - small.rss) / (large.mailboxes - small.mailboxes)) * 10_000).toFixed(0)} MB per extra 10,000 mailboxes (${fmtN(small.mailboxes)} → ${fmtN(large.mailboxes)})`);
    }
  }
  if (lines.length > 0) process.stdout.write(`\nsuite summary (load average now ${loadavg()[0].toFixed(1)}):\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
}

async function main() {
  const o = parse(process.argv.slice(2));
  if (o.suite) return suite(process.argv.slice(2).filter((a) => a !== '--suite'));
  const command = `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim();
  const work = o.workdir ? resolve(o.workdir) : mkdtempSync(join(tmpdir(), 'ownersync-bench-'));
  mkdirSync(work, { recursive: true });
  const log = (m) => process.stderr.write(`bench: ${m}\n`);

  const loadBefore = loadavg()[0];
  const t0 = performance.now();
  const { fixture, inSync, desiredOwners } = makeTenant(o);
  const fixturePath = join(work, 'tenant.json');
  writeFileSync(fixturePath, JSON.stringify(fixture));
  const rt = roundTrips(fixture);
  const s = fixture.summary;
  log(
    `tenant: ${fmtN(s.mailboxes)} shared mailboxes, ${fmtN(s.users)} users (${fmtN(s.helloidUsers)} in HelloID), ${fmtN(s.helloidGroups)} HelloID groups ` +
      `(${fmtN(rt.ownerGroups)} owner groups), ${fmtN(desiredOwners)} desired owners, in-sync ${(inSync * 100).toFixed(1)}% → ~${fmtN(s.approxAdds)} adds ` +
      `(${fmtS(performance.now() - t0)}; ${work})`,
  );

  const token = randomBytes(18).toString('base64url');
  const emu = await startEmulator(o, fixturePath, token);
  log(`emulator at ${emu.url}: latency ${o.latency} ms, concurrency ${o.concurrency} per service${o.failRate ? `, fail-rate ${o.failRate}` : ''}`);
  const results = [];
  try {
    const cfgPath = join(work, 'ownersync.yaml');
    writeFileSync(
      cfgPath,
      [
        'exchange:',
        `  tenantId: ${TENANT_DEFAULTS.tenantId}`,
        `  clientId: ${TENANT_DEFAULTS.clientId}`,
        '  clientSecret: ${OWNERSYNC_CLIENT_SECRET}',
        `  authorityHost: ${emu.url}`,
        `  adminApiUrl: ${emu.url}`,
        'helloid:',
        `  baseUrl: ${emu.url}`,
        '  apiKey: ${HELLOID_API_KEY}',
        '  apiSecret: ${HELLOID_API_SECRET}',
        'apply:',
        `  concurrency: ${o.applyConcurrency}`,
        '',
      ].join('\n'),
    );
    const env = { ...process.env, ...emu.env, NODE_EXTRA_CA_CERTS: emu.caPath, NO_COLOR: '1' };
    delete env.OWNERSYNC_SIGNING_KEY;
    const L = o.latency;
    const C = o.concurrency;

    // ---- plan (and, with --replan, plan again over a changed desired state)
    const planFloorMs = (Math.max(rt.floor.exchange, rt.floor.helloid) / C) * L;
    const planBaselineMs = (rt.original.exchange + rt.original.helloid) * L;
    const measurePlan = async (command) => {
      await control(emu, token, 'POST', '/_emulator/reset-stats');
      log(`running ${command} …`);
      const planRun = await runCli(['plan', '-c', cfgPath, '-o', join(work, 'plan.yaml'), '--state', join(work, 'desired-state.yaml'), '--quiet'], {
        env,
        cwd: work,
        outFile: join(work, `${command}.out.txt`),
      });
      const planStats = await control(emu, token, 'GET', '/_emulator/stats');
      let plan;
      if (planRun.code === 0) plan = readPlan(join(work, 'plan.yaml'));
      else log(`${command} failed (exit ${planRun.code}):\n${planRun.stderr.trim()}`);
      results.push({
        command,
        exitCode: planRun.code,
        wallMs: planRun.wallMs,
        services: serviceFigures(planStats),
        cmdlets: Object.fromEntries(Object.entries(planStats.cmdlets).map(([k, v]) => [k, v.requests])),
        routes: Object.fromEntries(Object.entries(planStats.routes).map(([k, v]) => [k, v.requests])),
        maxRssMB: planRun.rusage ? planRun.rusage.maxRSS / 1024 : undefined,
        // RSS per 10,000 mailboxes: compare runs at two sizes to see the growth.
        rssPer10kMailboxesMB: planRun.rusage ? planRun.rusage.maxRSS / 1024 / (o.mailboxes / 10_000) : undefined,
        timeline: timeline(planStats, planRun),
        cpuMs: planRun.rusage ? (planRun.rusage.userCPUTime + planRun.rusage.systemCPUTime) / 1000 : undefined,
        baselineRoundTrips: rt.original,
        floorRoundTrips: rt.floor,
        baselineMs: planBaselineMs,
        floorMs: planFloorMs,
        speedup: planBaselineMs / planRun.wallMs,
        vsFloor: planRun.wallMs / planFloorMs,
        plan: plan
          ? { changes: plan.changes.length, add: plan.summary.add, remove: plan.summary.remove, groups: plan.groups.length, warnings: plan.warnings.length, exchangeChangesChars: plan.exchangeChanges?.length ?? 0 }
          : undefined,
      });
      log(`${command}: exit ${planRun.code} in ${fmtS(planRun.wallMs)}${plan ? `; ${fmtN(plan.changes.length)} changes in ${fmtN(plan.groups.length)} groups` : ''}`);
      return plan;
    };
    let plan = await measurePlan('plan');
    if (plan && o.replan) {
      const changed = changeHolders(join(work, 'desired-state.yaml'), 100);
      log(`desired-state.yaml: ${fmtN(changed)} holder lines changed for the replan`);
      plan = await measurePlan('replan');
    }

    // ---- approve + apply
    if (!o.skipApply && plan && plan.changes.length > 0) {
      const approveRun = await runCli(['approve', join(work, 'plan.yaml'), '--by', 'bench'], { env, cwd: work, outFile: join(work, 'approve.out.txt'), measure: false });
      if (approveRun.code !== 0) throw new Error(`approve failed (exit ${approveRun.code}): ${approveRun.stderr.trim()}`);
      await control(emu, token, 'POST', '/_emulator/reset-stats');
      log('running apply …');
      const applyRun = await runCli(['apply', join(work, 'plan.yaml'), '-c', cfgPath, '--quiet'], { env, cwd: work, outFile: join(work, 'apply.out.txt') });
      const applyStats = await control(emu, token, 'GET', '/_emulator/stats');
      if (applyRun.code !== 0) log(`apply exit ${applyRun.code}:\n${applyRun.stderr.trim()}`);
      let receipt;
      try {
        receipt = JSON.parse(readFileSync(join(work, 'plan.yaml.receipt.json'), 'utf8'));
      } catch {
        receipt = undefined;
      }
      const writes = plan.changes.length;
      // Apply must re-read each planned group (drift check) before writing: those reads plus one write per change.
      const applyFloorRt = plan.groups.length + writes;
      const applyFloorMs = (applyFloorRt / C) * L;
      const applyBaselineMs = writes * L;
      results.push({
        command: 'apply',
        exitCode: applyRun.code,
        wallMs: applyRun.wallMs,
        services: serviceFigures(applyStats),
        routes: Object.fromEntries(Object.entries(applyStats.routes).map(([k, v]) => [k, v.requests])),
        maxRssMB: applyRun.rusage ? applyRun.rusage.maxRSS / 1024 : undefined,
        timeline: timeline(applyStats, applyRun),
        cpuMs: applyRun.rusage ? (applyRun.rusage.userCPUTime + applyRun.rusage.systemCPUTime) / 1000 : undefined,
        baselineRoundTrips: { helloid: writes },
        floorRoundTrips: { helloid: applyFloorRt, driftReads: plan.groups.length, writes },
        baselineMs: applyBaselineMs,
        floorMs: applyFloorMs,
        writesOnlyFloorMs: (writes / C) * L,
        speedup: applyBaselineMs / applyRun.wallMs,
        vsFloor: applyRun.wallMs / applyFloorMs,
        receipt: receipt ? receipt.summary : undefined,
      });
      log(`apply: exit ${applyRun.code} in ${fmtS(applyRun.wallMs)}${receipt ? `; ${JSON.stringify(receipt.summary)}` : ''}`);
    }
  } finally {
    await stopEmulator(emu);
    if (!o.keep && !o.workdir) rmSync(work, { recursive: true, force: true });
  }

  const rows = tableRows(results);
  // Other processes on the machine slow both the CLI and the emulator: say how busy it was.
  const load = `load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`;
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${load}`;
  const params =
    `${fmtN(o.mailboxes)} shared mailboxes, ${fmtN(o.users)} users, ${fmtN(o.helloidGroups)} HelloID groups (${fmtN(rt.ownerGroups)} owner groups), ` +
    `${o.holders} holders per mailbox, L = ${o.latency} ms, C = ${o.concurrency} per service${o.failRate ? `, fail-rate ${o.failRate}` : ''}, apply.concurrency ${o.applyConcurrency}`;
  process.stdout.write(`\n${command}\n${params}\n${machine}\n\n${textTable(rows)}\n\n`);
  process.stdout.write(
    `round trips — original (sequential): exchange ${fmtN(rt.original.exchange)}, helloid ${fmtN(rt.original.helloid)}; ` +
      `floor: exchange ${fmtN(rt.floor.exchange)} ($batch = 1 request against C), helloid ${fmtN(rt.floor.helloid)}\n`,
  );
  const fmtMark = (ms) => (ms === null || ms === undefined ? 'n/a' : fmtS(ms));
  const timelines = [];
  for (const r of results) {
    const t = r.timeline;
    if (!t) continue;
    timelines.push(
      `${r.command} timeline (from spawn): first request ${fmtMark(t.firstRequest)}` +
        (r.command !== 'apply' ? `, first HelloID member read ${fmtMark(t.firstHelloIdMemberRead)}, last Exchange $batch done ${fmtMark(t.lastExchangeBatchEnd)}` : '') +
        `, last request done ${fmtMark(t.lastRequestEnd)}, then ${fmtMark(t.tailAfterLastRequest)} to exit (output, hashing)` +
        (t.meanHelloIdMs === null ? '' : `; HelloID requests took ${t.meanHelloIdMs.toFixed(1)} ms each at the emulator (L = ${o.latency})`),
    );
  }
  const planResult = results.find((r) => r.command === 'plan');
  if (planResult?.rssPer10kMailboxesMB !== undefined) timelines.push(`plan peak RSS per 10,000 mailboxes: ${planResult.rssPer10kMailboxesMB.toFixed(0)} MB (peak ÷ size, fixed start-up cost included; \`--suite\` gives the growth between sizes)`);
  if (timelines.length > 0) process.stdout.write(`${timelines.join('\n')}\n`);
  const apply = results.find((r) => r.command === 'apply');
  if (apply) process.stdout.write(`apply floor = (${fmtN(apply.floorRoundTrips.driftReads)} drift-check reads + ${fmtN(apply.floorRoundTrips.writes)} writes) ÷ C × L; writes alone: ${fmtS(apply.writesOnlyFloorMs)} (wall ÷ that: ${fmtX(apply.wallMs / apply.writesOnlyFloorMs)})\n`);

  const json = { command, date: new Date().toISOString(), machine, options: o, tenant: { ...fixture.summary, inSync, desiredOwners, roundTrips: rt }, results };
  // For --suite's summary, whether or not results are kept (--no-results).
  if (process.env[SUITE_OUT]) writeFileSync(process.env[SUITE_OUT], JSON.stringify(json));
  if (o.writeResults) {
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
    // One section per command line (the latest run of each), so the main run and, say,
    // the --fail-rate run sit side by side.
    const shown = command === 'node bench/run.js' ? 'npm run bench' : command.replace(/ --no-results\b/, '');
    const section = [
      `## \`${shown}\``,
      '',
      `${params}. Machine: ${machine}. ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
      '',
      markdownTable(rows),
      '',
      ...timelines.map((l) => `- ${l}`),
      '',
    ].join('\n');
    writeFileSync(join(RESULTS, 'README-table.md'), mergeSection(readText(join(RESULTS, 'README-table.md')), shown, section));
  }
  if (results.some((r) => r.exitCode !== 0)) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
