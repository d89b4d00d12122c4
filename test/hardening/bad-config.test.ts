/**
 * A corpus of broken configuration files through `validate -c` and `plan -c`: every one
 * must exit 1 with a message that names the file and the key or line at fault, with no
 * stack trace unless --debug or DEBUG=1 asks for one, and without quoting a secret.
 *
 * The bulk runs in one process through the CLI entry (cli-batch.mjs); a sample, and
 * every --debug/DEBUG case, runs the real bin in its own process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch, spawnCli, type BatchResult } from './batch.js';
import { STACK_LINE } from './helpers.js';

const SECRET = 'S3NTINEL-config-secret-7f3a9c';
const ENV = {
  OWNERSYNC_CLIENT_SECRET: 'S3NTINEL-client-secret-env-51be',
  HELLOID_API_KEY: 'S3NTINEL-helloid-key-env-88c1',
  HELLOID_API_SECRET: 'S3NTINEL-helloid-secret-env-0d4e',
};

const GOOD = `exchange:
  tenantId: 00000000-0000-4000-8000-000000000001
  organization: contoso.onmicrosoft.com
  clientId: 00000000-0000-4000-8000-000000000002
  clientSecret: \${OWNERSYNC_CLIENT_SECRET}
  authorityHost: https://127.0.0.1:9
  adminApiUrl: https://127.0.0.1:9
helloid:
  baseUrl: https://127.0.0.1:9
  apiKey: \${HELLOID_API_KEY}
  apiSecret: \${HELLOID_API_SECRET}
sync:
  removeMembers: true
  protectedUsers: [admin@contoso.com]
  limits:
    maxRemovals: 10
    maxRemovalPercent: 25
plan:
  expiresAfter: 72h
apply:
  concurrency: 4
`;

/** GOOD with one line replaced (matched by its start, indentation included). */
function replaceLine(prefix: string, replacement: string): string {
  const lines = GOOD.split('\n');
  const i = lines.findIndex((l) => l.startsWith(prefix));
  if (i < 0) throw new Error(`no line ${prefix}`);
  lines.splice(i, 1, ...(replacement === '' ? [] : replacement.split('\n')));
  return lines.join('\n');
}

interface Case {
  name: string;
  content: string | Buffer;
  /** What the message must contain besides the file name: the key path or the line. */
  where: RegExp;
}

const cases: Case[] = [
  // wrong types and values
  { name: 'bool-as-text', content: replaceLine('  removeMembers:', '  removeMembers: "yes please"'), where: /sync\.removeMembers/ },
  { name: 'int-as-word', content: replaceLine('    maxRemovals:', '    maxRemovals: ten'), where: /sync\.limits\.maxRemovals/ },
  { name: 'negative-limit', content: replaceLine('    maxRemovals:', '    maxRemovals: -1'), where: /sync\.limits\.maxRemovals/ },
  { name: 'percent-over-100', content: replaceLine('    maxRemovalPercent:', '    maxRemovalPercent: 250'), where: /sync\.limits\.maxRemovalPercent/ },
  { name: 'concurrency-zero', content: replaceLine('  concurrency:', '  concurrency: 0'), where: /apply\.concurrency/ },
  { name: 'concurrency-fraction', content: replaceLine('  concurrency:', '  concurrency: 1.5'), where: /apply\.concurrency/ },
  { name: 'protected-not-list', content: replaceLine('  protectedUsers:', '  protectedUsers: admin@contoso.com'), where: /sync\.protectedUsers/ },
  { name: 'protected-list-of-maps', content: replaceLine('  protectedUsers:', '  protectedUsers: [{a: 1}]'), where: /sync\.protectedUsers/ },
  { name: 'section-is-list', content: GOOD.replace(/^plan:\n {2}expiresAfter: 72h$/m, 'plan: [a, b]'), where: /\bplan\b/ },
  { name: 'http-baseurl', content: replaceLine('  baseUrl:', '  baseUrl: http://contoso.helloid.com'), where: /helloid\.baseUrl/ },
  { name: 'baseurl-not-url', content: replaceLine('  baseUrl:', '  baseUrl: not a url'), where: /helloid\.baseUrl/ },
  { name: 'tenant-not-guid', content: replaceLine('  tenantId:', '  tenantId: contoso'), where: /exchange\.tenantId/ },
  { name: 'tenant-number', content: replaceLine('  tenantId:', '  tenantId: 12345'), where: /exchange\.tenantId/ },
  { name: 'expires-number', content: replaceLine('  expiresAfter:', '  expiresAfter: 72'), where: /plan\.expiresAfter/ },
  { name: 'expires-words', content: replaceLine('  expiresAfter:', '  expiresAfter: 3 weeks'), where: /plan\.expiresAfter/ },
  { name: 'expires-too-long', content: replaceLine('  expiresAfter:', '  expiresAfter: 400d'), where: /plan\.expiresAfter/ },
  { name: 'unknown-environment', content: replaceLine('  adminApiUrl:', '  adminApiUrl: https://127.0.0.1:9\n  environment: Mars'), where: /exchange\.environment/ },
  { name: 'expandgroups-int', content: replaceLine('  adminApiUrl:', '  adminApiUrl: https://127.0.0.1:9\n  expandGroups: 1'), where: /exchange\.expandGroups/ },
  { name: 'secret-and-cert', content: replaceLine('  clientSecret:', '  clientSecret: ${OWNERSYNC_CLIENT_SECRET}\n  certificate: { path: ./cert.pem }'), where: /clientSecret|certificate/ },
  { name: 'no-credential', content: replaceLine('  clientSecret:', ''), where: /clientSecret|certificate/ },
  { name: 'cert-file-missing', content: replaceLine('  clientSecret:', '  certificate: { path: ./no-such-cert.pem }'), where: /exchange\.certificate/ },
  { name: 'literal-secret-in-file', content: replaceLine('  apiSecret:', `  apiSecret: ${SECRET}`), where: /helloid\.apiSecret/ },
  { name: 'secret-wrong-type', content: replaceLine('  apiSecret:', `  apiSecret: [${SECRET}]`), where: /helloid\.apiSecret/ },
  // unknown keys
  { name: 'typo-top-level', content: GOOD.replace(/^sync:/m, 'sinc:'), where: /sinc/ },
  { name: 'typo-nested', content: replaceLine('  removeMembers:', '  removeMember: true'), where: /sync.*unknown key.*"removeMember".*did you mean "removeMembers"/ },
  { name: 'unknown-key-secretish', content: replaceLine('  clientSecret:', `  clientSecret: \${OWNERSYNC_CLIENT_SECRET}\n  clientSecrt: ${SECRET}`), where: /clientSecrt/ },
  // missing keys and variables
  { name: 'missing-section', content: GOOD.replace(/^helloid:\n( {2}.*\n)+/m, ''), where: /helloid/ },
  { name: 'missing-key', content: replaceLine('  tenantId:', ''), where: /exchange\.tenantId/ },
  { name: 'unset-variable', content: replaceLine('  apiSecret:', '  apiSecret: ${OWNERSYNC_NOT_SET_ANYWHERE}'), where: /OWNERSYNC_NOT_SET_ANYWHERE/ },
  { name: 'bad-variable-syntax', content: replaceLine('  apiKey:', '  apiKey: ${HELLOID_API_KEY'), where: /helloid\.apiKey|line 10|:10:/ },
  { name: 'empty-variable-name', content: replaceLine('  apiKey:', '  apiKey: ${}'), where: /helloid\.apiKey|line 10|:10:/ },
  // YAML syntax
  { name: 'bad-indentation', content: replaceLine('  organization:', '   organization: contoso.onmicrosoft.com'), where: /:[23]:\d+:/ },
  { name: 'unclosed-quote-with-secret', content: replaceLine('  apiSecret:', `  apiSecret: "${SECRET}`), where: /:\d+:\d+: Missing closing "?quote/ },
  { name: 'tab-indent', content: replaceLine('  organization:', '\torganization: contoso.onmicrosoft.com'), where: /:3:|line 3/ },
  { name: 'duplicate-key', content: replaceLine('  removeMembers:', '  removeMembers: true\n  removeMembers: false'), where: /:14:|line 14|removeMembers/ },
  { name: 'two-documents', content: `${GOOD}---\n${GOOD}`, where: /more than one|document|---/ },
  { name: 'unresolved-alias', content: replaceLine('  protectedUsers:', '  protectedUsers: *nobody'), where: /:14:|line 14|nobody/ },
  { name: 'alias-bomb', content: `${GOOD}x0: &a0 [y, y, y, y, y, y, y, y, y, y]\n${Array.from({ length: 12 }, (_, i) => `x${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`).join('\n')}\n`, where: /alias|x\d+|:2\d:/ },
  { name: 'deep-nesting', content: `${GOOD}deep: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`, where: /nested|deep|:22:/ },
  { name: 'unknown-tag', content: replaceLine('  removeMembers:', '  removeMembers: !!binary dHJ1ZQ=='), where: /:13:|removeMembers/ },
  { name: 'flow-garbage', content: replaceLine('  protectedUsers:', '  protectedUsers: [a, b'), where: /:14:|:15:|line 14|line 15/ },
  // not a mapping
  { name: 'top-scalar', content: 'hello world\n', where: /top level|mapping/ },
  { name: 'top-list', content: '- exchange\n- helloid\n', where: /top level|mapping/ },
  // empty
  { name: 'empty', content: '', where: /empty/ },
  { name: 'comments-only', content: '# nothing here\n# at all\n', where: /empty/ },
  { name: 'whitespace-only', content: '   \n\n\t\n', where: /empty|:\d+:/ },
  // huge
  { name: 'huge', content: `${GOOD}${'# padding padding padding padding padding padding padding padding\n'.repeat(17_000)}`, where: /1 MiB|bytes/ },
  { name: 'huge-one-value', content: replaceLine('  organization:', `  organization: ${'a'.repeat(1_100_000)}.onmicrosoft.com`), where: /1 MiB|bytes/ },
  // binary / not UTF-8
  { name: 'binary', content: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x10, 0x80, 0x81]), where: /UTF-8|binary|control/ },
  { name: 'latin1', content: Buffer.from(GOOD.replace('contoso.onmicrosoft.com', 'caf\u00e9.onmicrosoft.com'), 'latin1'), where: /UTF-8/ },
  { name: 'utf16', content: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(GOOD, 'utf16le')]), where: /UTF-8|:\d+:|mapping/ },
  { name: 'nul-in-text', content: replaceLine('  organization:', '  organization: contoso\u0000.onmicrosoft.com'), where: /:3:|line 3|organization|control/ },
];

let dir: string;
let results: Map<string, { validate: BatchResult; plan: BatchResult }>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ownersync-badcfg-'));
  mkdirSync(path.join(dir, 'a-directory.yaml'));
  writeFileSync(path.join(dir, 'good.yaml'), GOOD);
  writeFileSync(path.join(dir, 'good-bom.yaml'), `\uFEFF${GOOD}`);
  for (const c of cases) writeFileSync(path.join(dir, `${c.name}.yaml`), c.content);
  const jobs = cases.flatMap((c) => [{ args: ['validate', '-c', `${c.name}.yaml`] }, { args: ['plan', '-c', `${c.name}.yaml`] }]);
  const out = await runBatch(jobs, dir, ENV);
  results = new Map();
  if (process.env.DUMP_MESSAGES) for (let i = 0; i < cases.length; i++) console.log(cases[i]!.name, '=>', out[2 * i]!.stderr.slice(0, 400));
  for (let i = 0; i < cases.length; i++) results.set(cases[i]!.name, { validate: out[2 * i]!, plan: out[2 * i + 1]! });
}, 120_000);

afterAll(() => {
  console.log(`[hardening] bad configs: ${cases.length} broken files + a missing file + a directory = ${cases.length + 2} broken inputs, each through validate -c and plan -c (${(cases.length + 2) * 2} runs), plus 2 valid controls, a 6-file real-process sample and 3 --debug/DEBUG runs`);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function expectGoodError(r: { code: number | null; stdout: string; stderr: string }, file: string, where: RegExp): void {
  const all = `${r.stdout}\n${r.stderr}`;
  expect(r.code, all).toBe(1);
  expect(r.stderr, all).toContain(file);
  expect(r.stderr, all).toMatch(where);
  expect(r.stderr, all).not.toMatch(STACK_LINE);
  expect(r.stdout).not.toMatch(/^OK:/m);
  for (const s of [SECRET, ...Object.values(ENV)]) expect(all).not.toContain(s);
}

describe('broken configuration files (validate -c, plan -c)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = results.get(c.name)!;
    for (const which of ['validate', 'plan'] as const) {
      const res = r[which];
      expect(res.thrown, `${which}: main() threw`).toBeUndefined();
      expect(res.crashes, `${which}: crashed`).toEqual([]);
      expectGoodError(res, `${c.name}.yaml`, c.where);
    }
  });

  it('the valid controls pass validate (so the corpus fails for its defect, not the base)', async () => {
    const out = await runBatch([{ args: ['validate', '-c', 'good.yaml'] }, { args: ['validate', '-c', 'good-bom.yaml'] }], dir, ENV);
    for (const r of out) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^OK:/m);
      for (const s of Object.values(ENV)) expect(r.stdout + r.stderr).not.toContain(s);
    }
  });

  it('a missing file and a directory: exit 1 naming them', async () => {
    const out = await runBatch(
      [
        { args: ['validate', '-c', 'no-such-file.yaml'] },
        { args: ['plan', '-c', 'no-such-file.yaml'] },
        { args: ['validate', '-c', 'a-directory.yaml'] },
        { args: ['plan', '-c', 'a-directory.yaml'] },
      ],
      dir,
      ENV,
    );
    expectGoodError(out[0]!, 'no-such-file.yaml', /no such file/);
    expectGoodError(out[1]!, 'no-such-file.yaml', /no such file/);
    expectGoodError(out[2]!, 'a-directory.yaml', /directory/);
    expectGoodError(out[3]!, 'a-directory.yaml', /directory/);
  });

  it('the real bin in its own process agrees with the batch runner (sample)', async () => {
    const sample = ['bool-as-text', 'unset-variable', 'bad-indentation', 'binary', 'huge', 'empty'];
    await Promise.all(
      sample.map(async (name) => {
        const c = cases.find((x) => x.name === name)!;
        const r = await spawnCli(['validate', '-c', `${name}.yaml`], dir, ENV);
        expectGoodError(r, `${name}.yaml`, c.where);
        expect(r.stderr).toBe(results.get(name)!.validate.stderr);
      }),
    );
  });

  it('--debug and DEBUG=1 add a stack trace; without them there is none', async () => {
    const [flag, envDebug, plain] = await Promise.all([
      spawnCli(['validate', '-c', 'bool-as-text.yaml', '--debug'], dir, ENV),
      spawnCli(['plan', '-c', 'unset-variable.yaml'], dir, { ...ENV, DEBUG: '1' }),
      spawnCli(['plan', '-c', 'unset-variable.yaml'], dir, ENV),
    ]);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(STACK_LINE);
    expect(envDebug.code).toBe(1);
    expect(envDebug.stderr).toMatch(STACK_LINE);
    expect(plain.stderr).not.toMatch(STACK_LINE);
    for (const r of [flag, envDebug]) for (const s of [SECRET, ...Object.values(ENV)]) expect(r.stdout + r.stderr).not.toContain(s);
  });
});
