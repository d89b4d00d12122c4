/**
 * Shared by the secret-hygiene suites: the sentinel credentials, the forms a secret can
 * leak in, an emulator whose demo tenant uses the sentinels as its real credentials, and
 * a recorder that runs the CLI and checks each run's stdout and stderr.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadFixture, type TenantFixture } from '../../src/emulator/index.js';
import { DEMO_FIXTURE, setup, type Env, type RunResult } from '../e2e/harness.js';
import { STACK_LINE } from './helpers.js';

const tag = Math.random().toString(36).slice(2, 8);

/** Sentinels: unique, greppable, and the app secret has '+', '/' and '=' so its encodings differ. */
export const S = {
  clientSecret: `S3NTINEL-client+secret/${tag}==`,
  helloidKey: `S3NTINEL-helloid-key-${tag}`,
  helloidSecret: `S3NTINEL-helloid-secret-${tag}`,
  signingKey: `S3NTINEL-signing-key-${tag}`,
  proxyPassword: `S3NTINEL-proxy-${tag}`,
  wrongClientSecret: `S3NTINEL-wrong-client-secret-${tag}`,
  wrongHelloidSecret: `S3NTINEL-wrong-helloid-secret-${tag}`,
  wrongSigningKey: `S3NTINEL-wrong-signing-key-${tag}`,
};

export const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Every form a secret could leak in: raw, base64, URL- and form-encoded, Basic headers, the marker. */
export function forbidden(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, v] of Object.entries(S)) {
    out.push([name, v], [`${name} (base64)`, b64(v)], [`${name} (urlencoded)`, encodeURIComponent(v)], [`${name} (form)`, new URLSearchParams({ v }).toString().slice(2)]);
  }
  for (const secret of [S.helloidSecret, S.wrongHelloidSecret]) out.push(['Basic key:secret', b64(`${S.helloidKey}:${secret}`)]);
  out.push(['proxy Basic', b64(`user:${S.proxyPassword}`)]);
  // The marker itself: nothing legitimate ever prints it.
  out.push(['sentinel marker', 'S3NTINEL']);
  return out;
}

/** A JWT or the start of one (the emulator's tokens are JWT-shaped, as Entra's are). */
export const BEARER = /eyJ[A-Za-z0-9_.-]{16,}/g;

/** Shortest prefix of a secret's encoding that counts as a (partial) leak. */
const MIN_PREFIX = 6;

export interface LeakReport {
  /** Leaks of any kind except the known excerpt truncation. */
  strict: string[];
  /**
   * Partial leaks that end exactly where an error excerpt is cut ("…"): the prefix of a
   * secret that redaction did not recognise because the excerpt was cut first
   * (reported bug in src/http/errors.ts bodyExcerpt).
   */
  truncated: string[];
}

/** Whole secrets, their encodings, their prefixes, and bearer tokens in `text`. */
export function findLeaks(text: string): LeakReport {
  const strict: string[] = [];
  const truncated: string[] = [];
  for (const [name, v] of forbidden()) {
    if (text.includes(v)) {
      strict.push(name);
      continue;
    }
    if (name === 'sentinel marker') continue;
    // The longest prefix of the secret that occurs.
    for (let k = v.length - 1; k >= MIN_PREFIX; k--) {
      const at = text.indexOf(v.slice(0, k));
      if (at < 0) continue;
      if (text.slice(at + k, at + k + 1) === '\u2026') truncated.push(`${name} (first ${k} of ${v.length} chars, cut by "…")`);
      else strict.push(`${name} (first ${k} of ${v.length} chars)`);
      break;
    }
  }
  for (const m of text.matchAll(BEARER)) {
    const end = (m.index ?? 0) + m[0].length;
    if (text.slice(end, end + 1) === '\u2026') truncated.push(`bearer token (${m[0].length} chars, cut by "…")`);
    else strict.push(`bearer token (${m[0].length} chars)`);
  }
  return { strict, truncated };
}

/** Every leak in `text`, truncated ones included. */
export function leaks(text: string): string[] {
  const r = findLeaks(text);
  return [...r.strict, ...r.truncated];
}

export function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Files under `dir` that contain a secret, as "file: forms". */
export function leakingFiles(dir: string): LeakReport {
  const out: LeakReport = { strict: [], truncated: [] };
  for (const f of walk(dir)) {
    const r = findLeaks(readFileSync(f).toString('utf8'));
    const name = path.relative(dir, f);
    if (r.strict.length > 0) out.strict.push(`${name}: ${r.strict.join(', ')}`);
    if (r.truncated.length > 0) out.truncated.push(`${name}: ${r.truncated.join(', ')}`);
  }
  return out;
}

/** The demo tenant with the sentinels as its real app secret and HelloID key/secret. */
export async function sentinelEnv(): Promise<Env> {
  const fixture: TenantFixture = structuredClone(loadFixture(DEMO_FIXTURE));
  fixture.apps[0]!.secret = S.clientSecret;
  delete fixture.apps[0]!.secrets;
  fixture.helloid!.apiKeys = [{ key: S.helloidKey, secret: S.helloidSecret }];
  const e = await setup({ fixture, sync: { removeMembers: true } });
  if (e.env.OWNERSYNC_CLIENT_SECRET !== S.clientSecret || e.env.HELLOID_API_SECRET !== S.helloidSecret) throw new Error('sentinels not in use');
  e.env.OWNERSYNC_SIGNING_KEY = S.signingKey;
  e.env.GITHUB_STEP_SUMMARY = e.file('step-summary.md');
  return e;
}

export interface PathRun {
  path: string;
  args: string[];
  env?: Record<string, string | undefined>;
  /** What this path's failure must say, so the check cannot pass on an unrelated failure. */
  symptom: RegExp;
  code: number;
}

/** Runs the CLI, remembers every run, and collects leaks. */
export class Recorder {
  readonly checked: string[] = [];
  readonly leaked: string[] = [];
  /** Partial leaks cut by an error excerpt's "…" (known bug, asserted separately). */
  readonly truncatedLeaks: string[] = [];
  constructor(private readonly e: Env) {}

  async cli(pathName: string, args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
    const r = await this.e.run(args, { env, timeoutMs: 120_000 });
    const label = `[${pathName}] ownersync ${args.join(' ')}`;
    this.checked.push(label);
    const l = findLeaks(`${r.stdout}\n${r.stderr}`);
    if (l.strict.length > 0) this.leaked.push(`${label}: ${l.strict.join(', ')}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    if (l.truncated.length > 0) this.truncatedLeaks.push(`${label}: ${l.truncated.join(', ')}`);
    return r;
  }

  /**
   * Runs the paths side by side (`parallel` at a time; most wait on retries), each
   * path's commands in order (they share plan files and apply locks). Returns what
   * went wrong besides leaks: exit code, symptom, stack trace with/without --debug.
   */
  async runPaths(runs: PathRun[], parallel = 3): Promise<string[]> {
    const byPath = new Map<string, PathRun[]>();
    for (const r of runs) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
    const queue = [...byPath.values()];
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let group = queue.shift(); group; group = queue.shift()) {
          for (const r of group) {
            const res = await this.cli(r.path, r.args, r.env ?? {});
            const all = `[${r.path}] ${r.args.join(' ')} → ${res.code}\n${res.stdout}\n${res.stderr}`;
            const debug = r.args.includes('--debug') || r.env?.DEBUG === '1';
            if (res.code !== r.code) failures.push(`exit ${res.code}, expected ${r.code}: ${all}`);
            if (!r.symptom.test(`${res.stdout}\n${res.stderr}`)) failures.push(`symptom ${r.symptom} missing: ${all}`);
            if (debug && res.code !== 0 && !STACK_LINE.test(res.stderr)) failures.push(`no stack trace with --debug/DEBUG: ${all}`);
            if (!debug && STACK_LINE.test(res.stderr)) failures.push(`stack trace without --debug: ${all}`);
          }
        }
      }),
    );
    return failures;
  }
}

/** The plan variants every error path runs: text, --json, --markdown, --debug. */
export function planArgs(n: string, extra: string[] = []): string[][] {
  return [
    ['plan', '-o', `${n}.yaml`, '--state', `${n}-state.yaml`, ...extra],
    ['plan', '--json', '-o', `${n}-j.yaml`, '--state', `${n}-j-state.yaml`, ...extra],
    ['plan', '--markdown', `${n}.md`, '-o', `${n}-m.yaml`, '--state', `${n}-m-state.yaml`, ...extra],
    ['plan', '--debug', '-o', `${n}-d.yaml`, '--state', `${n}-d-state.yaml`, ...extra],
  ];
}
