/**
 * Shared helpers of the hardening suites: run `plan --json` through the built CLI and
 * compare its changes with a clean run, count HelloID writes and token requests in
 * the emulator's log, and recognise stack traces in output.
 */
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import type { Change, Warning } from '../../src/core/types.js';
import type { Emulator } from '../../src/emulator/index.js';
import type { Env, RunResult } from '../e2e/harness.js';

// Shapes of the product's own types, not copies of them.
export type PlanChange = Change;
export type PlanWarning = Warning;

export interface PlanJson {
  formatVersion: number;
  digest: string;
  summary: { add: number; remove: number; kept: number };
  changes: PlanChange[];
  kept?: Array<{ groupName: string; userName: string; reason: string }>;
  warnings: PlanWarning[];
}

export interface PlanRun extends RunResult {
  json?: PlanJson;
  planFile: string;
  stateFile: string;
}

let seq = 0;

/** `plan --json --detailed-exitcode` into fresh file names (so runs never overwrite each other). */
export async function planJson(e: Env, opts: { env?: Record<string, string | undefined>; timeoutMs?: number; extraArgs?: string[] } = {}): Promise<PlanRun> {
  const n = ++seq;
  const planFile = `plan-${n}.yaml`;
  const stateFile = `state-${n}.yaml`;
  const r = await e.run(['plan', '--json', '--detailed-exitcode', '-o', planFile, '--state', stateFile, ...(opts.extraArgs ?? [])], opts);
  let json: PlanJson | undefined;
  try {
    const parsed = JSON.parse(r.stdout) as PlanJson & { error?: unknown };
    if (!parsed.error) json = parsed;
  } catch {
    json = undefined;
  }
  return { ...r, json, planFile, stateFile };
}

/** A change as a comparable key (guids decide; names make failures readable). */
export function changeKey(c: PlanChange): string {
  return `${c.action} ${c.groupName} (${c.groupGuid.toLowerCase()}) ${c.userName} (${c.userGuid.toLowerCase()})`;
}

export function changeKeys(j: PlanJson): string[] {
  return j.changes.map(changeKey).sort();
}

/**
 * The core safety property: every removal in `faulted` is also in `clean` (a removal
 * that the sources justify), and every add is one the clean run planned too (no
 * invented membership).
 */
export function expectNoUnjustifiedChanges(faulted: PlanJson, clean: PlanJson): void {
  const cleanSet = new Set(changeKeys(clean));
  const unjustified = changeKeys(faulted).filter((k) => !cleanSet.has(k));
  expect(unjustified, 'changes the clean run did not plan').toEqual([]);
}

/** HelloID membership writes the emulator has seen (any status). */
export function helloidWriteRequests(em: Emulator): number {
  return em.stats().log.filter((l) => l.service === 'helloid' && (l.method === 'POST' || l.method === 'DELETE')).length;
}

/** Successful HelloID writes per (method path), to find repeated or lost ones. */
export function successfulWrites(em: Emulator): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of em.stats().log) {
    if (l.service !== 'helloid' || (l.method !== 'POST' && l.method !== 'DELETE')) continue;
    if (l.status < 200 || l.status >= 300) continue;
    const k = `${l.method} ${l.path.toLowerCase()}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** Token requests answered by Entra ID (any status). */
export function tokenRequests(em: Emulator): number {
  return em.stats().log.filter((l) => l.service === 'entra' && /token$/.test(l.route)).length;
}

/** A JavaScript stack frame line ("    at foo (file.js:1:2)"). */
export const STACK_LINE = /^\s+at .+/m;

export function expectNoStack(text: string): void {
  expect(text).not.toMatch(STACK_LINE);
}

export function fileExists(e: Env, name: string): boolean {
  return existsSync(e.file(name));
}

/** Wait until `cond()` holds (polling the in-process emulator), or give up after `ms`. */
export async function waitFor(cond: () => boolean, ms = 20_000, stepMs = 2): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/** Permissive limits, so that a wrong removal shows up as a removal and not as a limits refusal. */
export const PERMISSIVE = { removeMembers: true, limits: { maxRemovals: 1000, maxRemovalPercent: 100, allowEmptyingGroups: true } } as const;
