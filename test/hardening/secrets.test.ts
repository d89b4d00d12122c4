/**
 * Secret hygiene through the built CLI, part 1: the demo tenant runs with sentinel
 * credentials (secrets-common.ts). Every command runs on the success path and on the
 * error paths that involve only the real services: Entra 401 (wrong app secret),
 * HelloID 401, wrong signing key, tampered plan, an unset variable, --debug and
 * DEBUG=1. The test fails if any sentinel, any of its encodings, a Basic header value
 * or anything shaped like a bearer token appears in stdout, stderr, or any file in the
 * working directory. Hostile servers and proxies: secrets-hostile.test.ts.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../e2e/harness.js';
import { leakingFiles, planArgs, Recorder, S, sentinelEnv, walk, type PathRun } from './secrets-common.js';

let e: Env;
let rec: Recorder;

beforeAll(async () => {
  e = await sentinelEnv();
  rec = new Recorder(e);
}, 60_000);

afterAll(async () => {
  console.log(`[hardening] secrets (real services): ${rec?.checked.length} command runs checked, ${e ? walk(e.dir).length : 0} files walked`);
  await e?.stop();
});

describe('no secret in output or files (real services)', () => {
  it('success path: every command', async () => {
    const runs: Array<[string[], number]> = [
      [['validate'], 0],
      [['validate', '--online'], 0],
      [['plan', '-o', 'plan.yaml'], 0],
      [['plan', '--json', '-o', 'plan-json.yaml', '--state', 'state-json.yaml'], 0],
      [['plan', '--markdown', 'plan.md', '-o', 'plan-md.yaml', '--state', 'state-md.yaml', '--detailed-exitcode'], 2],
      [['show', 'plan.yaml'], 0],
      [['show', 'plan.yaml', '--json'], 0],
      [['show', 'plan.yaml', '--markdown'], 0],
      [['approve', 'plan.yaml', '--by', 'Reviewer'], 0],
      [['approve', 'plan-json.yaml', '--by', 'Reviewer'], 0],
      [['approve', 'plan-md.yaml', '--by', 'Reviewer'], 0],
      [['apply', 'plan.yaml'], 0],
      [['apply', 'plan-json.yaml', '--json'], 0],
      [['plan', '--debug', '-o', 'plan-debug.yaml', '--state', 'state-debug.yaml'], 0],
    ];
    for (const [args, code] of runs) {
      const r = await rec.cli('success', args, args.includes('--debug') ? { DEBUG: '1' } : {});
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
    }
    expect(readFileSync(e.file('plan.yaml'), 'utf8')).toMatch(/^signature: hmac-sha256:/m);
  }, 120_000);

  it('error paths', async () => {
    const runs: PathRun[] = [];
    const add = (p: string, symptom: RegExp, list: string[][], env?: Record<string, string | undefined>, code = 1): void => {
      for (const args of list) runs.push({ path: p, args, symptom, code, ...(env ? { env } : {}) });
    };
    // Each path applies its own copy of an approved, not yet applied plan (locks are per file).
    for (const n of ['h401', 'wrongkey']) copyFileSync(e.file('plan-md.yaml'), e.file(`plan-${n}.yaml`));
    writeFileSync(e.file('tampered.yaml'), readFileSync(e.file('plan-md.yaml'), 'utf8').replace('reason: FullAccess (direct)', 'reason: trust me'));

    add('entra-401', /Entra ID refused the client credentials|AADSTS/, [['validate', '--online'], ['validate', '--online', '--debug'], ...planArgs('e401')], { OWNERSYNC_CLIENT_SECRET: S.wrongClientSecret });
    add('entra-401-DEBUG', /Entra ID refused the client credentials|AADSTS/, [['plan', '-o', 'e401x.yaml', '--state', 'e401x-state.yaml']], { OWNERSYNC_CLIENT_SECRET: S.wrongClientSecret, DEBUG: '1' });
    add(
      'helloid-401',
      /HelloID rejected the API key/,
      [['validate', '--online'], ...planArgs('h401'), ['apply', 'plan-h401.yaml'], ['apply', 'plan-h401.yaml', '--json'], ['apply', 'plan-h401.yaml', '--debug']],
      { HELLOID_API_SECRET: S.wrongHelloidSecret },
    );
    add('wrong-signing-key', /signature/i, [['approve', 'plan-wrongkey.yaml', '--by', 'Mallory'], ['apply', 'plan-wrongkey.yaml'], ['apply', 'plan-wrongkey.yaml', '--json', '--debug'], ['show', 'plan-wrongkey.yaml']], { OWNERSYNC_SIGNING_KEY: S.wrongSigningKey }, 3);
    add('tampered', /modified after it was planned/, [['approve', 'tampered.yaml', '--by', 'R'], ['apply', 'tampered.yaml'], ['apply', 'tampered.yaml', '--json', '--debug']], undefined, 3);
    add('unset-variable', /HELLOID_API_SECRET/, [['validate'], ['validate', '--online'], ['plan', '--debug'], ['apply', 'plan-md.yaml']], { HELLOID_API_SECRET: undefined });

    // `show` is read-only and exits 0 on a plan signed with another key: fix the expectation.
    const show = runs.find((r) => r.args[0] === 'show')!;
    show.code = 0;
    show.symptom = /signed|Resource Owners/;

    const failures = await rec.runPaths(runs);
    expect(failures).toEqual([]);
  }, 240_000);

  it('nothing leaked in any output', () => {
    expect(rec.checked.length).toBeGreaterThan(30);
    expect(rec.leaked).toEqual([]);
    expect(rec.truncatedLeaks).toEqual([]);
  });

  it('nothing leaked in any file written in the work dir (plans, state, journal, receipt, markdown, step summary)', () => {
    const files = walk(e.dir);
    for (const suffix of ['.journal.jsonl', '.receipt.json', 'step-summary.md', 'plan.md', 'desired-state.yaml']) {
      expect(files.some((f) => f.endsWith(suffix)), suffix).toBe(true);
    }
    const files2 = leakingFiles(e.dir);
    expect(files2.strict).toEqual([]);
    expect(files2.truncated).toEqual([]);
  });
});
