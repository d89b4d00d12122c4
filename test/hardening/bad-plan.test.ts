/**
 * Broken plan files through `show`, `approve` and `apply`, starting from a real plan the
 * CLI wrote against the emulator. Each corpus entry says what it must be taken for:
 *
 *   unreadable — exit 1 from all three, stderr names the file and the key or line;
 *   tampered   — reads, but its digest does not match: show says MODIFIED (exit 0),
 *                approve and apply refuse with exit 3;
 *   valid      — a harmless variation (CRLF, JSON form, a comment): show says intact.
 *
 * No stack trace anywhere, and apply never sends a single HelloID write.
 * Semantic mutations are re-digested, so the reader (not the digest) must catch them.
 *
 * The fast-check property of the plan reader is in bad-plan-property.test.ts.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeDigest, parsePlan, verifyIntegrity, type PlanFile } from '../../src/plan/index.js';
import { setup, type Env } from '../e2e/harness.js';
import { runBatch, type BatchResult } from './batch.js';
import { helloidWriteRequests, PERMISSIVE, planJson, STACK_LINE } from './helpers.js';

type Kind = 'unreadable' | 'tampered' | 'valid';
interface Case {
  name: string;
  content: string | Buffer;
  kind: Kind;
  /** For unreadable: what the message must name (key path, line, or the problem). */
  where?: RegExp;
  /**
   * A hand edit of the text that keeps a well-formed digest: show, apply and approve
   * may report it as tampered (exit 3, "modified after it was planned") instead of
   * unreadable (src/apply/tamper.ts).
   */
  rawEdit?: boolean;
}

let e: Env;
let validText: string;
let valid: PlanFile;
const cases: Case[] = [];
const results = new Map<string, { show: BatchResult; approve: BatchResult; apply: BatchResult }>();
let writesDuringApply = -1;

/** A plan as loose data, for edits that break its types on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

/** The plan with `edit` applied to a deep copy, written as YAML, digest recomputed unless `keepDigest`. */
function edited(edit: (p: Loose) => void, opts: { keepDigest?: boolean } = {}): string {
  const p = structuredClone(valid) as Loose;
  edit(p);
  if (!opts.keepDigest) {
    try {
      p.digest = computeDigest(p as PlanFile);
    } catch {
      // not digestible (the edit broke a type): keep the old digest, the reader must refuse it anyway
    }
  }
  return YAML.stringify(p, { lineWidth: 0 });
}

function buildCorpus(): void {
  const digestAt = validText.indexOf('\ndigest: ');
  expect(digestAt).toBeGreaterThan(0);
  for (const pct of [3, 20, 40, 60, 80, 97]) {
    cases.push({ name: `trunc-${pct}`, content: validText.slice(0, Math.floor((digestAt * pct) / 100)), kind: 'unreadable', where: /is missing|line \d+|is empty|not a YAML mapping/ });
  }
  cases.push({ name: 'trunc-in-digest', content: validText.slice(0, digestAt + 30), kind: 'unreadable', where: /digest/ });
  cases.push({ name: 'trunc-mid-line', content: validText.slice(0, validText.indexOf('reason:') + 3), kind: 'unreadable', where: /is missing|line \d+/ });

  // schema violations (re-digested)
  const schema: Array<[string, (p: Loose) => void, RegExp]> = [
    ['action-replace', (p) => (p.changes[0].action = 'replace'), /changes\[0\]\.action/],
    ['group-guid-bad', (p) => (p.changes[1].groupGuid = 'not-a-guid'), /changes\[1\]\.groupGuid/],
    ['user-guid-number', (p) => (p.changes[0].userGuid = 12345), /changes\[0\]\.userGuid/],
    ['summary-string', (p) => (p.summary.add = 'ten'), /summary\.add/],
    ['summary-negative', (p) => (p.summary.kept = -1), /summary\.kept/],
    ['groups-mapping', (p) => (p.groups = { a: 1 }), /\bgroups\b/],
    ['created-not-date', (p) => (p.createdAt = 'yesterday'), /createdAt/],
    ['unknown-top-key', (p) => (p.evil = true), /evil/],
    ['unknown-change-key', (p) => (p.changes[0].force = true), /changes\[0\]\.force/],
    ['missing-changes', (p) => delete p.changes, /changes/],
    ['missing-target', (p) => delete p.target, /target/],
    ['signature-bad', (p) => (p.signature = 'hmac-sha256:zz'), /signature/],
    ['approval-no-by', (p) => (p.approvals = [{ at: p.createdAt, digest: p.digest }]), /approvals\[0\]\.by/],
    ['base-url-not-url', (p) => (p.target.helloidBaseUrl = 'javascript:alert(1)'), /target\.helloidBaseUrl/],
    ['fv-2', (p) => (p.formatVersion = 2), /formatVersion 2 is not supported/],
    ['fv-string', (p) => (p.formatVersion = '1'), /formatVersion "1" is not supported/],
    ['fv-fraction', (p) => (p.formatVersion = 1.5), /formatVersion 1\.5/],
    ['fv-null', (p) => (p.formatVersion = null), /formatVersion null/],
    ['fv-missing', (p) => delete p.formatVersion, /formatVersion is missing/],
    // consistency: only the reader's cross-checks can catch these
    ['dup-change', (p) => { p.changes.push(structuredClone(p.changes[0])); p.summary.add++; }, /changes\[\d+\]: duplicated change/],
    ['change-unknown-group', (p) => (p.changes[0].groupGuid = '99999999-9999-4999-8999-999999999999'), /changes\[0\]: group 99999999-9999-4999-8999-999999999999 .* not listed in groups/],
    ['summary-mismatch', (p) => (p.summary.add = 3), /summary\.add: is 3, but changes has 11 adds/],
    ['planned-mismatch', (p) => p.groups[0].plannedMembers.pop(), /groups\[0\]\.plannedMembers/],
    ['remove-not-observed', (p) => { const c = p.changes.find((x: { action: string }) => x.action === 'remove'); c.userGuid = '88888888-8888-4888-8888-888888888888'; }, /removes 88888888-8888-4888-8888-888888888888/],
    ['group-listed-twice', (p) => p.groups.push(structuredClone(p.groups[0])), /groups\[\d+\]: group .* is listed twice/],
    ['expires-before-created', (p) => (p.expiresAt = '2001-01-01T00:00:00.000Z'), /expiresAt/],
  ];
  for (const [name, edit, where] of schema) cases.push({ name, content: edited(edit), kind: 'unreadable', where });
  cases.push({ name: 'digest-md5', content: edited((p) => (p.digest = 'md5:abc'), { keepDigest: true }), kind: 'unreadable', where: /\bdigest\b/ });

  // bytes and YAML-level attacks
  const bad = Buffer.from(validText, 'utf8');
  const at = bad.indexOf('no HelloID user');
  const withFF = Buffer.concat([bad.subarray(0, at), Buffer.from([0xff, 0xfe]), bad.subarray(at)]);
  cases.push({ rawEdit: true, name: 'non-utf8-bytes', content: withFF, kind: 'unreadable', where: /not UTF-8/ });
  cases.push({ rawEdit: true, name: 'latin1', content: Buffer.from(validText.replace('Cafe Bestellingen', 'Caf\u00e9 Bestellingen'), 'latin1'), kind: 'unreadable', where: /not UTF-8/ });
  cases.push({ name: 'utf16', content: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(validText, 'utf16le')]), kind: 'unreadable', where: /not UTF-8/ });
  cases.push({ name: 'binary', content: Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256)), kind: 'unreadable', where: /not UTF-8/ });
  cases.push({ name: 'empty', content: '', kind: 'unreadable', where: /empty/ });
  cases.push({ name: 'whitespace', content: '  \n\n  \n', kind: 'unreadable', where: /empty/ });
  cases.push({ name: 'comment-only', content: '# a plan\n', kind: 'unreadable', where: /empty/ });
  cases.push({ name: 'top-list', content: '- formatVersion: 1\n', kind: 'unreadable', where: /not a YAML mapping/ });
  cases.push({ name: 'top-scalar', content: 'plan\n', kind: 'unreadable', where: /not a YAML mapping/ });
  cases.push({ rawEdit: true, name: 'two-documents', content: `${validText}---\n${validText}`, kind: 'unreadable', where: /single YAML document/ });
  cases.push({ rawEdit: true, name: 'duplicate-key', content: validText.replace('formatVersion: 1\n', 'formatVersion: 1\nformatVersion: 1\n'), kind: 'unreadable', where: /line \d+/ });
  cases.push({ rawEdit: true, name: 'collection-key', content: `${validText}? [a, b]\n: c\n`, kind: 'unreadable', where: /line \d+/ });
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');
  cases.push({ rawEdit: true, name: 'yaml-bomb', content: `${validText}${bomb}\n`, kind: 'unreadable', where: /alias|resource exhaustion/i });
  cases.push({ rawEdit: true, name: 'yaml-bomb-in-warnings', content: validText.replace('overrides: []', `overrides: []\nx: &x [${'"lol",'.repeat(10)}"lol"]\ny: &y [${'*x,'.repeat(10)}*x]\nz: [${'*y,'.repeat(200)}*y]`), kind: 'unreadable', where: /alias|resource exhaustion/i });
  cases.push({ rawEdit: true, name: 'unresolved-alias', content: validText.replace('kept: []', 'kept: *nothing'), kind: 'unreadable', where: /line \d+|alias|nothing/i });
  cases.push({ rawEdit: true, name: 'deep-nesting', content: validText.replace('kept: []', `kept: ${'['.repeat(30_000)}${']'.repeat(30_000)}`), kind: 'unreadable', where: /kept|nested|line \d+|stack/i });
  cases.push({ rawEdit: true, name: 'proto-key', content: validText.replace('formatVersion: 1\n', 'formatVersion: 1\n__proto__: { polluted: true }\n'), kind: 'unreadable', where: /__proto__/ });
  cases.push({ rawEdit: true, name: 'str-tag-version', content: validText.replace('formatVersion: 1\n', 'formatVersion: !!str 1\n'), kind: 'unreadable', where: /formatVersion "1"/ });
  cases.push({ rawEdit: true, name: 'binary-tag', content: validText.replace('kept: []', 'kept: !!binary aGVsbG8='), kind: 'unreadable', where: /kept/ });
  // YAML accepts a NUL inside a plain scalar, so this reads, and the digest catches it.
  cases.push({ name: 'nul-in-text', content: validText.replace('FullAccess (direct)', 'FullAccess\u0000(direct)'), kind: 'tampered' });
  // Small on purpose: nested flow brackets cost superlinear time to reject (reported:
  // 1 MB ~6 s, 6 MB ~55 s in show and ~130 s in apply/approve, which parse twice).
  cases.push({ name: 'huge-garbage', content: `formatVersion: 1\nx: ${'{['.repeat(100_000)}`, kind: 'unreadable', where: /line \d+|nested/ });

  // tampered: readable, digest no longer matches
  cases.push({ name: 'tamper-username', content: edited((p) => (p.changes[0].userName = 'mallory@contoso.com'), { keepDigest: true }), kind: 'tampered' });
  cases.push({ name: 'tamper-reason', content: validText.replace('reason: FullAccess (direct)', 'reason: approved by the CEO'), kind: 'tampered' });
  cases.push({ name: 'tamper-expiry', content: edited((p) => (p.expiresAt = '2099-01-01T00:00:00.000Z'), { keepDigest: true }), kind: 'tampered' });
  cases.push({ name: 'tamper-huge-message', content: edited((p) => (p.warnings[0].message = 'x'.repeat(12 * 1024 * 1024)), { keepDigest: true }), kind: 'tampered' });

  // harmless variations
  cases.push({ name: 'crlf', content: validText.replace(/\n/g, '\r\n'), kind: 'valid' });
  cases.push({ name: 'json-form', content: JSON.stringify(valid, null, 2), kind: 'valid' });
  cases.push({ name: 'extra-comment', content: `${validText}# reviewed in PR #42\n`, kind: 'valid' });
  cases.push({ name: 'reformatted', content: YAML.stringify(valid, { indent: 4, lineWidth: 40 }), kind: 'valid' });
}

beforeAll(async () => {
  e = await setup({ sync: PERMISSIVE });
  const p = await planJson(e);
  expect(p.code, p.stderr).toBe(2);
  validText = e.read(p.planFile);
  valid = parsePlan(validText);
  buildCorpus();
  for (const c of cases) {
    writeFileSync(e.file(`${c.name}.yaml`), c.content);
    copyFileSync(e.file(`${c.name}.yaml`), e.file(`${c.name}.approve.yaml`));
  }
  e.emulator.resetStats();
  const jobs = cases.flatMap((c) => [
    { args: ['show', `${c.name}.yaml`] },
    { args: ['apply', `${c.name}.yaml`] },
    { args: ['approve', `${c.name}.approve.yaml`, '--by', 'Reviewer'] },
  ]);
  const out = await runBatch(jobs, e.dir, e.env);
  writesDuringApply = helloidWriteRequests(e.emulator);
  if (process.env.DUMP_MESSAGES) cases.forEach((c, i) => console.log(`${c.name} => [${out[3 * i]!.code}/${out[3 * i + 1]!.code}/${out[3 * i + 2]!.code}] ${out[3 * i + 1]!.stderr.slice(0, 300)}`));
  if (process.env.BATCH_TRACE) for (const r of [...out].sort((a, b) => b.ms - a.ms).slice(0, 15)) console.log(`${r.ms} ms ${r.args.join(' ')}`);
  cases.forEach((c, i) => results.set(c.name, { show: out[3 * i]!, apply: out[3 * i + 1]!, approve: out[3 * i + 2]! }));
}, 600_000);

afterAll(async () => {
  console.log(`[hardening] bad plans: ${cases.length} files x 3 commands = ${cases.length * 3} runs`);
  await e?.stop();
});

describe('broken plan files (show, approve, apply)', () => {
  it('the corpus is what it claims: the controls are valid plans', () => {
    expect(cases.filter((c) => c.kind === 'valid').length).toBeGreaterThan(0);
    for (const c of cases.filter((x) => x.kind === 'valid')) expect(verifyIntegrity(parsePlan(c.content)).ok, c.name).toBe(true);
  });

  // One test over the whole corpus (it is built from a plan made in beforeAll); soft
  // assertions report every entry that fails, not just the first.
  it('every entry is refused or shown as its kind requires', () => {
    for (const c of cases) {
      const r = results.get(c.name)!;
      const name = c.name;
      const file = `${name}.yaml`;
      for (const [cmd, res] of Object.entries(r)) {
        const what = `${cmd} ${name}`;
        expect.soft(res.thrown, `${what}: main() threw`).toBeUndefined();
        expect.soft(res.crashes, `${what}: crashed`).toEqual([]);
        expect.soft(res.stderr, `${what}: stack trace`).not.toMatch(STACK_LINE);
        expect.soft(res.stdout, `${what}: stack trace`).not.toMatch(STACK_LINE);
      }
      if (c.kind === 'unreadable') {
        for (const [cmd, res] of Object.entries(r)) {
          const all = `${cmd} ${name}: ${res.stdout}\n${res.stderr}`;
          expect.soft(res.stderr, all).toContain(cmd === 'approve' ? `${name}.approve.yaml` : file);
          if (c.rawEdit && res.code === 3) {
            expect.soft(res.stderr, all).toMatch(/modified after it was planned/);
            continue;
          }
          expect.soft(res.code, all).toBe(1);
          expect.soft(res.stderr, all).toMatch(c.where!);
        }
      } else if (c.kind === 'tampered') {
        // show's one rule: rendered (marked MODIFIED) and exit 3 whenever the plan was modified after planning.
        expect.soft(r.show.code, `show ${name}: ${r.show.stderr}`).toBe(3);
        expect.soft(r.show.stdout, `show ${name}`).toMatch(/MODIFIED/);
        expect.soft(r.show.stderr, `show ${name}`).toMatch(/modified after it was planned/);
        for (const [cmd, res] of [['approve', r.approve], ['apply', r.apply]] as const) {
          expect.soft(res.code, `${cmd} ${name}: ${res.stdout}${res.stderr}`).toBe(3);
          expect.soft(res.stderr, `${cmd} ${name}`).toMatch(/modified after it was planned/);
        }
        expect.soft(r.apply.stderr, `apply ${name}`).toContain(file);
      } else {
        expect.soft(r.show.code, `show ${name}: ${r.show.stderr}`).toBe(0);
        expect.soft(r.show.stdout, `show ${name}`).toMatch(/intact/);
        // Unapproved: apply refuses (exit 3), approve records the approval.
        expect.soft(r.apply.code, `apply ${name}: ${r.apply.stderr}`).toBe(3);
        expect.soft(r.apply.stderr, `apply ${name}`).toMatch(/no approval/);
        expect.soft(r.approve.code, `approve ${name}: ${r.approve.stderr}`).toBe(0);
      }
    }
  });

  it('apply sent no HelloID write for any of them', () => {
    expect(writesDuringApply).toBe(0);
  });
});
