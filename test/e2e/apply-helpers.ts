/**
 * Helpers for the apply/approve end-to-end tests: snapshots of the emulator's HelloID
 * membership, the state a plan file says each group must end in, a tracker that sees
 * every membership write the emulator actually executes (keyed group/user/action,
 * which the request log cannot give for POST: the user is in the body), text edits of
 * plan.yaml, and journal/receipt readers. The CLI itself is always run through the
 * harness; nothing here calls product code except the YAML parser.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import YAML from 'yaml';
import type { Emulator } from '../../src/emulator/index.js';
import { REPO, show, type Env, type RunResult } from './harness.js';

export { show };
import type { Change } from '../../src/core/types.js';
import type { PlanFile, PlanGroup as PlanFileGroup } from '../../src/plan/types.js';

/** groupGuid (lower case) → sorted member userGUIDs (lower case), for every HelloID group. */
export type Membership = Record<string, string[]>;

export function snapshot(em: Emulator): Membership {
  const out: Membership = {};
  for (const g of em.state.helloid.groups) out[g.groupGuid.toLowerCase()] = [...g.members].map((m) => m.toLowerCase()).sort();
  return out;
}

/** Put every group's membership back to `m` (out of band, as an administrator would). */
export function restore(em: Emulator, m: Membership): void {
  for (const g of em.state.helloid.groups) {
    const want = m[g.groupGuid.toLowerCase()];
    if (!want) continue;
    // Set.prototype methods, not the instance's: a WriteTracker may be installed.
    Set.prototype.clear.call(g.members);
    for (const u of want) Set.prototype.add.call(g.members, em.state.helloid.userByGuidOnly(u)?.userGUID ?? u);
  }
}

// The plan file as written: the product's own types, not a copy of them.
export type PlanGroup = PlanFileGroup;
export type PlanChange = Change;
export type PlanDoc = PlanFile;

export function readPlanDoc(path: string): PlanDoc {
  return YAML.parse(readFileSync(path, 'utf8')) as PlanDoc;
}

/** The whole HelloID membership a complete apply of `plan` must leave, given the membership before it. */
export function expectedAfter(before: Membership, plan: PlanDoc): Membership {
  const out: Membership = { ...before };
  for (const g of plan.groups) out[g.groupGuid.toLowerCase()] = g.plannedMembers.map((m) => m.toLowerCase()).sort();
  return out;
}

export function changeKey(groupGuid: string, userGuid: string, action: string): string {
  return `${groupGuid.toLowerCase()}/${userGuid.toLowerCase()}/${action}`;
}

/** Every planned change's key. */
export function planKeys(plan: PlanDoc): string[] {
  return plan.changes.map((c) => changeKey(c.groupGuid, c.userGuid, c.action)).sort();
}

/**
 * Counts the membership writes the emulator executes, per group/user/action: wraps
 * add/delete of every group's member set (the HelloID handlers call exactly these,
 * once per POST/DELETE that gets past the fault pipeline). Install it after any
 * out-of-band change the test makes itself.
 */
export class WriteTracker {
  readonly counts = new Map<string, number>();
  private readonly restore: Array<() => void> = [];

  constructor(em: Emulator) {
    for (const g of em.state.helloid.groups) {
      const set = g.members;
      const add = set.add.bind(set);
      const del = set.delete.bind(set);
      const guid = g.groupGuid;
      set.add = (v: string) => {
        this.bump(changeKey(guid, v, 'add'));
        return add(v);
      };
      set.delete = (v: string) => {
        this.bump(changeKey(guid, v, 'remove'));
        return del(v);
      };
      this.restore.push(() => {
        delete (set as { add?: unknown }).add;
        delete (set as { delete?: unknown }).delete;
      });
    }
  }

  private bump(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Keys written more than once. */
  repeated(): string[] {
    return [...this.counts].filter(([, n]) => n > 1).map(([k]) => k);
  }

  keys(): string[] {
    return [...this.counts.keys()].sort();
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  uninstall(): void {
    for (const r of this.restore) r();
  }
}

/** HelloID POST/DELETE log entries (every attempt the emulator saw, faulted ones included). */
export function writeLog(em: Emulator): Array<{ method: string; path: string; status: number; fault?: string }> {
  return em.stats().log.filter((e) => e.service === 'helloid' && (e.method === 'POST' || e.method === 'DELETE'));
}

export interface JournalLine {
  digest: string;
  groupGuid: string;
  userGuid: string;
  action: 'add' | 'remove';
  outcome: 'started' | 'done' | 'already' | 'failed';
  at: string;
  error?: string;
}

export function readJournalLines(path: string): JournalLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JournalLine);
}

export interface ReceiptJson {
  digest: string;
  status: 'applied' | 'partial';
  exitCode: number;
  summary: { total: number; done: number; already: number; failed: number; skipped: number };
  changes: Array<PlanChange & { outcome: string; error?: string; note?: string }>;
}

export function readReceipt(path: string): ReceiptJson {
  return JSON.parse(readFileSync(path, 'utf8')) as ReceiptJson;
}

/** Copy a plan file with a text edit; fails the test if the edit changed nothing. */
export function editPlanText(src: string, dst: string, edit: (text: string) => string): void {
  const before = readFileSync(src, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`editPlanText(${dst}): the edit changed nothing`);
  writeFileSync(dst, after);
}

/** Replace the first match of `re` at or after the first occurrence of `anchor`. */
export function replaceAfter(text: string, anchor: string, re: string | RegExp, replacement: string): string {
  const i = text.indexOf(anchor);
  if (i < 0) throw new Error(`replaceAfter: '${anchor}' not found`);
  return text.slice(0, i) + text.slice(i).replace(re, replacement);
}

/** Flip the last hex digit of a GUID (still a well-formed GUID). */
export function otherGuid(guid: string): string {
  const last = guid.at(-1)!;
  return guid.slice(0, -1) + (last === '0' ? '1' : '0');
}

/**
 * Where apply's lock for this emulator lives: the OS temp dir of the CLI child (the
 * harness passes no TMPDIR, so /tmp), named after sha256 of the lower-cased HelloID
 * base URL — the target, not the plan file (issue 13 item 4).
 */
export function lockFileFor(e: Env): string {
  const dir = e.env.TMPDIR ?? '/tmp';
  const hash = createHash('sha256').update(e.emulator.url.replace(/\/+$/, '').toLowerCase()).digest('hex').slice(0, 16);
  return path.join(dir, `ownersync-apply-${hash}.lock`);
}

/** A readable dump of a CLI run for assertion messages. */

/** `plan --detailed-exitcode` into `out`; asserts it found changes (exit 2) and returns the parsed plan. */
export async function makePlan(e: Env, out = 'plan.yaml', opts: { env?: Record<string, string | undefined>; config?: string } = {}): Promise<PlanDoc> {
  const args = ['plan', '--detailed-exitcode', '-o', out, '--state', `${out}.desired-state.yaml`];
  if (opts.config) args.push('-c', opts.config);
  const r = await e.run(args, { env: opts.env });
  if (r.code !== 2) throw new Error(`plan into ${out} did not exit 2:\n${show(r)}`);
  return readPlanDoc(e.file(out));
}

/** Poll until `cond()` holds (test-side waiting on the emulator, never on wall time assertions). */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let applySchema: ValidateFunction | undefined;

/** Validate `apply --json` output against schemas/output/apply-output.schema.json (draft-07); returns ajv's errors as text, or '' when valid. */
export function applyOutputErrors(value: unknown): string {
  if (!applySchema) {
    const schema = JSON.parse(readFileSync(path.join(REPO, 'schemas/output/apply-output.schema.json'), 'utf8')) as object;
    applySchema = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return applySchema(value) ? '' : JSON.stringify(applySchema.errors);
}

/** Collect a spawned CLI's output and wait for it to end. */
export function collect(child: ChildProcess): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}
