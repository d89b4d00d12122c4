/**
 * The example GitHub Actions pipeline end to end against the emulator: the `run:`
 * scripts of examples/github-actions/ownersync-plan.yml (jobs `check` and `plan`) and
 * ownersync-apply.yml (jobs `apply` and `replan`), parsed from the files, executed with GitHub's
 * shell (`bash --noprofile --norc -eo pipefail`) in fresh clones of a throwaway git
 * origin, with the `ownersync` CLI of this checkout on PATH. The people in between act
 * as docs/ci.md tells them: the plan bot proposes the plan on ownersync/plan, a reviewer
 * runs `ownersync approve … --by` and pushes, a maintainer merges to main.
 *
 * Flow: plan (changes: job passes) → propose → approve → PR check (no secret: the
 * committed plan rendered, what was checked listed) → merge → apply (exit 0, receipt,
 * HelloID = plan) → plan again (no changes) → HelloID changed out of band → plan →
 * approve → hand-edited plan merged → apply refuses (exit 3, zero HelloID writes) and
 * `replan` starts ownersync-plan → the fresh plan is proposed, approved, merged, but
 * HelloID changes before apply → apply refuses it as drifted → `replan` → the next
 * fresh plan goes through → plan again: no changes. Nothing stays stuck.
 *
 * What is NOT executed, and why (see NOT_RUN for the step-by-step list):
 *  - actions/checkout: each job gets a fresh `git clone` of the temp origin instead
 *    (a pull_request job gets the merge commit, HEAD^1 = main, as GitHub checks it out).
 *  - actions/setup-node: node is on PATH already.
 *  - "Install ownersync" (`npm ci` of the configuration repository's lockfile, which
 *    pins a release tarball: network): an `ownersync` shim on PATH runs this
 *    checkout's dist/ instead.
 *  - `gh workflow run` in the `replan` job: a `gh` shim on PATH records the call; the
 *    test then runs the plan job as the workflow_dispatch run it would start.
 *  - actions/upload-artifact, actions/cache/restore + save, actions/github-script (PR
 *    comment): GitHub services. The test reads the files from the workspace; the cache
 *    restore is a miss, as on a first run.
 *  - in the `propose` job, actions/download-artifact: the test copies the plan job's
 *    files to new-plan/ as the artifact would; `gh pr …` goes to the gh shim (no open
 *    PR; the calls are recorded); `git push` goes to the temp origin.
 * Expressions: only those in EXPRS / CONDS below are known; the runner fails the test
 * on any other `${{ }}` or `if:` in a job it runs.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, helloidWrites, REPO, setup, type Env } from './harness.js';
import { expectedAfter, otherGuid, readPlanDoc, snapshot, type Membership, type PlanDoc } from './apply-helpers.js';
import { describeJob, evalCondition, loadWorkflow, parseCommandFile, runJob, substitute, type CondTable, type ExprTable, type JobResult, type RunContext, type Workflow, type WorkflowJob } from './pipeline-runner.js';
import { createWorld, pathsFilterMatches, type PipelineWorld } from './pipeline-repo.js';

const PLAN_WORKFLOW = path.join(REPO, 'examples/github-actions/ownersync-plan.yml');
const APPLY_WORKFLOW = path.join(REPO, 'examples/github-actions/ownersync-apply.yml');
const SIGNING_KEY = 'pipeline-e2e-signing-key-0123456789';
const PLAN_BRANCH = 'ownersync/plan';

/** Steps this test does not execute, by label (name, else `uses:`), with the reason. */
const NOT_RUN: Record<string, string> = {
  'uses:actions/checkout@v4': 'GitHub checkout; the job workspace is a fresh clone of the temp origin',
  'uses:actions/setup-node@v4': 'node is already on PATH',
  'Install ownersync': 'npm ci of the pinned release (network); the ownersync shim on PATH runs dist/',
  'Upload the plan': 'actions/upload-artifact (GitHub); the test reads the files from the workspace',
  'Post or update the check comment': 'actions/github-script, GitHub API; the test reads comment.md',
  'Restore the journal of an earlier apply of this plan': 'actions/cache/restore (GitHub); treated as a cache miss',
  'Upload the receipt and the journal': 'actions/upload-artifact (GitHub); the test reads the files from the workspace',
  'Save the journal for a re-run': 'actions/cache/save (GitHub)',
  'uses:actions/download-artifact@v4': 'actions/download-artifact (GitHub); the test copies the plan files to new-plan/',
  'Post or update the plan comment': 'actions/github-script, GitHub API (the propose job)',
};

/** Every `${{ }}` the run steps and their env use, with the value GitHub would give. */
const EXPRS: ExprTable = {
  'secrets.OWNERSYNC_CLIENT_SECRET': (s) => s.ctx.secrets.OWNERSYNC_CLIENT_SECRET ?? '',
  'secrets.HELLOID_API_KEY': (s) => s.ctx.secrets.HELLOID_API_KEY ?? '',
  'secrets.HELLOID_API_SECRET': (s) => s.ctx.secrets.HELLOID_API_SECRET ?? '',
  'secrets.OWNERSYNC_SIGNING_KEY': (s) => s.ctx.secrets.OWNERSYNC_SIGNING_KEY ?? '',
  // Unset inputs (schedule, pull_request) are ''.
  'inputs.override_limits': (s) => s.ctx.inputs.override_limits ?? '',
  'github.server_url': (s) => s.ctx.serverUrl,
  'github.repository': (s) => s.ctx.repository,
  'github.run_id': (s) => s.ctx.runId,
  'github.token': () => 'github-token-for-the-gh-shim',
  'github.event.repository.default_branch': (s) => s.ctx.defaultBranch,
  // steps.<id>.outputs.<name> is the runner's one pattern rule.
};

/** Every `if:` of the jobs and run steps executed here (the implicit success() is the runner's). */
const CONDS: CondTable = {
  // check job: pull requests only, no secret.
  "github.event_name == 'pull_request'": (s) => s.ctx.eventName === 'pull_request',
  'always()': () => true,
  // plan job: runs on the default branch only (its environment allows main alone).
  "github.event_name != 'pull_request' && github.ref_name == github.event.repository.default_branch": (s) =>
    s.ctx.eventName !== 'pull_request' && s.ctx.refName === s.ctx.defaultBranch,
  "steps.plan.outputs.exitcode != '0' && steps.plan.outputs.exitcode != '2'": (s) => !['0', '2'].includes(s.steps.plan?.exitcode ?? ''),
  // apply job
  "github.ref == 'refs/heads/main'": (s) => s.ctx.ref === 'refs/heads/main',
  "always() && steps.apply.outputs.exitcode != ''": (s) => (s.steps.apply?.exitcode ?? '') !== '',
  "always() && steps.apply.outputs.exitcode != '0'": (s) => (s.steps.apply?.exitcode ?? '') !== '0',
  // propose job: after the plan job.
  "needs.plan.outputs.exitcode == '2' || needs.plan.outputs.exitcode == '0'": (s) => ['0', '2'].includes(s.ctx.needs?.plan?.exitcode ?? ''),
  "needs.plan.outputs.exitcode == '0'": (s) => s.ctx.needs?.plan?.exitcode === '0',
  "needs.plan.outputs.exitcode == '2'": (s) => s.ctx.needs?.plan?.exitcode === '2',
  "steps.commit.outputs.updated == 'true'": (s) => s.steps.commit?.updated === 'true',
  // replan job: after the apply job, only when it saw exit 3.
  "always() && needs.apply.outputs.exitcode == '3'": (s) => s.ctx.needs?.apply?.exitcode === '3',
};

/** docs/ci.md §2: what only local runs create, never committed. */
const GITIGNORE = 'plan.md\nplans/*.journal.jsonl\nplans/*.receipt.json\nplans/*.lock\n';

interface ApplyJson {
  status: string;
  digest: string;
  summary: { done: number; already: number; failed: number; skipped: number };
  changes: unknown[];
  receiptPath?: string;
  error?: { message: string; exitCode: number };
}

describe('example GitHub Actions pipeline against the emulator', () => {
  let e: Env;
  let w: PipelineWorld;
  let planWf: Workflow;
  let applyWf: Workflow;
  let secrets: Record<string, string>;
  let runs = 0;
  /** Where the `gh` shim records its arguments, one call per line. */
  let ghCalls: string;
  let before: Membership;
  /** The plan of round one, as merged to main. */
  let plan1: PlanDoc;

  const context = (eventName: RunContext['eventName'], over: Partial<RunContext> = {}): RunContext => ({
    eventName,
    ref: 'refs/heads/main',
    refName: 'main',
    defaultBranch: 'main',
    repository: 'contoso/identity-config',
    serverUrl: 'https://github.example.test',
    runId: String(1000 + ++runs),
    runAttempt: '1',
    secrets,
    inputs: eventName === 'workflow_dispatch' ? { override_limits: 'false' } : {},
    ...over,
  });

  /** Run one job in `workspace` as GitHub would for `ctx`. */
  async function job(workflow: Workflow, name: string, workspace: string, ctx: RunContext): Promise<JobResult> {
    const runnerTemp = w.tempDir(`runner-temp-${name}`);
    const result = await runJob({
      workflow,
      job: name,
      ctx,
      workspace,
      runnerTemp,
      runnerEnv: {
        ...w.baseEnv,
        // Test plumbing, not the workflow's: trust the emulator's CA as a real runner trusts Microsoft's and HelloID's.
        NODE_EXTRA_CA_CERTS: e.env.NODE_EXTRA_CA_CERTS!,
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_EVENT_NAME: ctx.eventName,
        GITHUB_REF: ctx.ref,
        GITHUB_REF_NAME: ctx.refName,
        GITHUB_REPOSITORY: ctx.repository,
        GITHUB_SERVER_URL: ctx.serverUrl,
        GITHUB_RUN_ID: ctx.runId,
        GITHUB_RUN_ATTEMPT: ctx.runAttempt,
        GITHUB_WORKSPACE: workspace,
        RUNNER_OS: 'Linux',
        RUNNER_TEMP: runnerTemp,
        GH_CALLS: ghCalls,
      },
      exprs: EXPRS,
      conds: CONDS,
      notRun: NOT_RUN,
    });
    // GitHub masks secrets in logs; ownersync must not print them in the first place.
    for (const s of result.steps) {
      for (const [name, value] of Object.entries(secrets)) {
        for (const text of [s.stdout, s.stderr, s.summary, JSON.stringify(s.outputs)]) {
          if (text.includes(value)) throw new Error(`secret ${name} appears in the output of step '${s.label}'`);
        }
      }
    }
    return result;
  }

  const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

  /**
   * The propose job of ownersync-plan.yml after `planJob`: its run steps, with the plan
   * job's files where actions/download-artifact would put them. Returns the gh calls.
   */
  async function propose(planWorkspace: string, planJob: JobResult): Promise<string[]> {
    const ws = w.clone('job-propose');
    for (const f of ['plans/plan.yaml', 'desired-state.yaml', 'plan.md']) {
      mkdirSync(path.dirname(path.join(ws, 'new-plan', f)), { recursive: true });
      copyFileSync(path.join(planWorkspace, f), path.join(ws, 'new-plan', f));
    }
    writeFileSync(ghCalls, '');
    const j = await job(planWf, 'propose', ws, context('workflow_dispatch', { needs: { plan: planJob.jobOutputs } }));
    const dump = describeJob(j);
    expect(j.status, dump).toBe('success');
    expect(j.step('commit').outputs.updated, dump).toBe('true');
    // What reached origin: main plus one commit with the plan and the desired state.
    w.git(ws, 'fetch', '--quiet', 'origin');
    expect(w.git(ws, 'show', `origin/${PLAN_BRANCH}:plans/plan.yaml`)).toBe(readFileSync(path.join(planWorkspace, 'plans/plan.yaml'), 'utf8'));
    expect(w.git(ws, 'rev-parse', `origin/${PLAN_BRANCH}^`).trim()).toBe(w.git(ws, 'rev-parse', 'origin/main').trim());
    return readFileSync(ghCalls, 'utf8').split('\n').filter(Boolean);
  }

  /** The reviewer's commands from docs/ci.md §4(a), in their own fresh clone; returns the clone. */
  async function reviewerApproves(): Promise<string> {
    const dir = w.clone('reviewer');
    const r = await w.sh(
      dir,
      [
        `git fetch origin && git switch ${PLAN_BRANCH} && git pull`,
        'ownersync show plans/plan.yaml',
        'ownersync approve plans/plan.yaml --by "Reviewer"',
        'git commit -am "Approve ownersync plan" && git push',
      ].join('\n'),
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/plans\/plan\.yaml: sha256:[0-9a-f]{64} · intact · signed · not approved · expires /);
    return dir;
  }

  /** The maintainer merges the plan PR into main (branch protection's review is assumed). Returns the files the merge changed. */
  function mergePlanPr(): string[] {
    const dir = w.clone('maintainer');
    w.git(dir, 'merge', '--quiet', '--no-ff', '-m', `Merge branch '${PLAN_BRANCH}'`, `origin/${PLAN_BRANCH}`);
    w.git(dir, 'push', '--quiet', 'origin', 'main');
    return w.git(dir, 'diff', '--name-only', 'HEAD^1', 'HEAD').split('\n').filter(Boolean);
  }

  /** Whether the replan job would run after this apply job (its `if:` with needs.apply). */
  function replanRuns(apply: JobResult): boolean {
    return evalCondition(applyWf.jobs.replan!.if, CONDS, { ctx: context('push', { needs: { apply: apply.jobOutputs } }), steps: {} }, false, 'replan');
  }

  /** Runs the replan job after `apply`; returns the `gh` calls it made (the gh shim records them). */
  async function replan(apply: JobResult): Promise<string[]> {
    expect(replanRuns(apply)).toBe(true);
    writeFileSync(ghCalls, '');
    const j = await job(applyWf, 'replan', w.clone('job-replan'), context('push', { needs: { apply: apply.jobOutputs } }));
    expect(j.status, describeJob(j)).toBe('success');
    expect(j.summary).toContain('Started **ownersync-plan** on `main`: it proposes a fresh plan as a pull request.');
    expect(j.steps[0]!.env?.GH_REPO).toBe('contoso/identity-config');
    return readFileSync(ghCalls, 'utf8').split('\n').filter(Boolean);
  }

  /** The apply workflow's `on.push`: main, paths [plans/plan.yaml]. */
  function applyTriggers(changed: string[]): boolean {
    const on = (applyWf as unknown as { on: { push: { branches: string[]; paths: string[] } } }).on;
    return on.push.branches.includes('main') && pathsFilterMatches(on.push.paths, changed);
  }

  beforeAll(async () => {
    try {
      execFileSync('sh', ['-c', 'command -v jq'], { stdio: 'ignore' });
    } catch {
      throw new Error('jq is not on PATH: ownersync-apply.yml uses it (GitHub ubuntu runners have it); install jq to run this test');
    }
    planWf = loadWorkflow(PLAN_WORKFLOW);
    applyWf = loadWorkflow(APPLY_WORKFLOW);
    e = await setup();
    w = createWorld();
    // Stands in for the GitHub CLI of the runner: records what the replan job asks for.
    ghCalls = path.join(w.root, 'gh-calls.txt');
    writeFileSync(path.join(w.binDir, 'gh'), '#!/bin/sh\necho "$*" >> "$GH_CALLS"\n', { mode: 0o755 });
    const c = e.emulator.clientSettings();
    secrets = {
      OWNERSYNC_CLIENT_SECRET: c.clientSecret ?? '',
      HELLOID_API_KEY: c.helloidApiKey,
      HELLOID_API_SECRET: c.helloidApiSecret,
      OWNERSYNC_SIGNING_KEY: SIGNING_KEY,
    };
    for (const [k, v] of Object.entries(secrets)) if (!v) throw new Error(`emulator gave no value for ${k}`);
    before = snapshot(e.emulator);

    // The configuration repository as docs/ci.md describes it: ownersync.yaml at the root
    // (secrets only as ${NAME}), requireSignature on, the .gitignore for local files.
    const admin = w.clone('admin');
    writeFileSync(path.join(admin, 'ownersync.yaml'), configYaml(e.emulator, { requireSignature: true }));
    writeFileSync(path.join(admin, '.gitignore'), GITIGNORE);
    w.git(admin, 'add', '.');
    w.git(admin, 'commit', '--quiet', '-m', 'ownersync configuration');
    w.git(admin, 'push', '--quiet', 'origin', 'main');
  }, 60_000);

  afterAll(async () => {
    w?.remove();
    await e?.stop();
  });

  it('no secret reaches a pull-request job: every secrets.* is in a job of a main-only environment; the check job has none', () => {
    const jobs = { ...planWf.jobs, ...applyWf.jobs } as Record<string, WorkflowJob & { environment?: string; permissions?: Record<string, string> }>;
    const withSecrets = Object.entries(jobs).filter(([, j]) => JSON.stringify(j).includes('secrets.')).map(([name, j]) => [name, j.environment]);
    expect(withSecrets).toEqual([
      ['plan', 'ownersync-plan'],
      ['apply', 'helloid-production'],
    ]);
    expect(planWf.jobs.check!.if).toBe("github.event_name == 'pull_request'");
    expect(JSON.stringify(planWf.jobs.check)).not.toMatch(/secrets\.|environment/);
    // No job that pull requests can run has an environment: the plan job is for the default branch only.
    expect(planWf.jobs.plan!.if).toBe("github.event_name != 'pull_request' && github.ref_name == github.event.repository.default_branch");
    // The replan job holds no secret; it may only start workflows.
    expect(jobs.replan?.permissions).toEqual({ actions: 'write' });
  });

  it('both workflows install ownersync with `npm ci` from the repository lockfile, never by name from the registry', () => {
    for (const wf of [planWf, applyWf]) {
      for (const [name, j] of Object.entries(wf.jobs)) {
        for (const step of j.steps.filter((st) => st.name === 'Install ownersync')) {
          expect(step.run, `${wf.name}/${name}`).toContain('npm ci --no-audit --no-fund');
        }
        expect(JSON.stringify(j), `${wf.name}/${name}`).not.toMatch(/npm (install|i) (--global|-g)|ownersync@/);
      }
    }
    const pkg = readJson<{ dependencies: Record<string, string> }>(path.join(REPO, 'examples/config-repo/package.json'));
    const version = readJson<{ version: string }>(path.join(REPO, 'package.json')).version;
    expect(pkg.dependencies.ownersync).toMatch(new RegExp(`/releases/download/v${version.replace(/\./g, '\\.')}/ownersync-${version.replace(/\./g, '\\.')}\\.tgz$`));
  });

  let planWs1: string;
  let planJob1: JobResult;
  it('plan job (Run workflow on main): changes (exit 2) pass the job; plan, desired state and plan.md written; the plan is in the job summary', async () => {
    planWs1 = w.clone('job-plan-1');
    const j = await job(planWf, 'plan', planWs1, context('workflow_dispatch'));
    planJob1 = j;
    const dump = describeJob(j);
    expect(j.status, dump).toBe('success');
    expect(j.steps.map((s) => [s.label, s.status])).toEqual([
      ['uses:actions/checkout@v4', 'not-run'],
      ['uses:actions/setup-node@v4', 'not-run'],
      ['Install ownersync', 'not-run'],
      ['Validate ownersync.yaml', 'ran'],
      ['Plan', 'ran'],
      ['Upload the plan', 'not-run'],
      ['Fail on error (1) or refusal by the safety limits (3)', 'skipped-if'],
    ]);
    expect(j.step('Validate ownersync.yaml').exitCode, dump).toBe(0);
    const p = j.step('plan');
    expect(p.exitCode, dump).toBe(0);
    expect(p.outputs).toEqual({ exitcode: '2' });
    expect(p.stdout).toContain('::notice::The plan has changes.');
    expect(p.env?.OWNERSYNC_SIGNING_KEY).toBe(SIGNING_KEY); // signed: a run on the default branch
    expect(p.env?.OVERRIDE_LIMITS).toBe('false');
    // What the propose job reads as needs.plan.outputs.exitcode: it would open the plan PR.
    expect(j.jobOutputs).toEqual({ exitcode: '2' });

    for (const f of ['plans/plan.yaml', 'desired-state.yaml', 'plan.md']) expect(existsSync(path.join(planWs1, f)), f).toBe(true);
    const doc = readPlanDoc(path.join(planWs1, 'plans/plan.yaml'));
    expect(doc.signature).toMatch(/^hmac-sha256:/);
    expect(doc.changes).toHaveLength(13);
    expect(doc.approvals).toEqual([]);
    const md = readFileSync(path.join(planWs1, 'plan.md'), 'utf8');
    expect(md).toContain('**11 to add, 2 to remove, 0 kept**');
    expect(md).toContain(doc.digest);
    expect(j.summary).toContain(md.trim());
    // plan.md is local only (.gitignore); plan and desired state are what the PR commits.
    expect(w.git(planWs1, 'status', '--porcelain').split('\n').filter(Boolean).sort()).toEqual(['?? desired-state.yaml', '?? plans/']);
    expect(helloidWrites(e.emulator)).toBe(0);
  });

  let approved: PlanDoc;
  it('the plan is proposed on ownersync/plan; the reviewer approves it (ownersync approve --by) and pushes', async () => {
    const doc = readPlanDoc(path.join(planWs1, 'plans/plan.yaml'));
    const calls = await propose(planWs1, planJob1);
    expect(calls.filter((c) => c.startsWith('pr create'))).toEqual([expect.stringMatching(/^pr create --head ownersync\/plan --base main --title ownersync plan: 11 to add, 2 to remove \(\d{4}-\d\d-\d\d\) --body-file pr-body\.md$/)]);
    const reviewer = await reviewerApproves();
    // What reached origin: the same plan body and digest, plus one approval bound to it.
    w.git(reviewer, 'fetch', '--quiet', 'origin');
    const pushed = w.git(reviewer, 'show', `origin/${PLAN_BRANCH}:plans/plan.yaml`);
    writeFileSync(path.join(w.root, 'approved-plan.yaml'), pushed);
    approved = readPlanDoc(path.join(w.root, 'approved-plan.yaml'));
    expect(approved.digest).toBe(doc.digest);
    expect(approved.signature).toBe(doc.signature);
    expect(approved.approvals).toHaveLength(1);
    expect(approved.approvals[0]).toMatchObject({ by: 'Reviewer', digest: doc.digest });
    expect(w.git(reviewer, 'log', '-1', '--format=%s', `origin/${PLAN_BRANCH}`).trim()).toBe('Approve ownersync plan');
  });

  it('the PR check on the approval push renders the committed plan without any secret and lists only what it checked', async () => {
    const on = (planWf as unknown as { on: { pull_request: { paths: string[] } } }).on;
    const ws = w.clone('job-check-pr');
    // actions/checkout of a pull_request: the merge commit, HEAD^1 = the base branch.
    w.git(ws, 'fetch', '--quiet', 'origin', PLAN_BRANCH);
    w.git(ws, 'merge', '--quiet', '--no-ff', '-m', 'Merge into main', 'FETCH_HEAD');
    const changed = w.git(ws, 'diff', '--name-only', 'HEAD^1', 'HEAD').split('\n').filter(Boolean);
    expect(pathsFilterMatches(on.pull_request.paths, changed), changed.join(',')).toBe(true);

    const requests = e.emulator.stats().totals.requests;
    // A pull-request run gets no secret: the check job's YAML names none, and the context gives none.
    const j = await job(planWf, 'check', ws, context('pull_request', { ref: 'refs/pull/1/merge', refName: '1/merge', pullRequestHeadRepo: 'contoso/identity-config', secrets: {} }));
    const dump = describeJob(j);
    expect(j.status, dump).toBe('success');
    expect(j.steps.map((s) => [s.label, s.status])).toEqual([
      ['uses:actions/checkout@v4', 'not-run'],
      ['uses:actions/setup-node@v4', 'not-run'],
      ['Install ownersync', 'not-run'],
      ['Check ownersync.yaml', 'ran'],
      ['Render the plan this pull request proposes', 'ran'],
      ['Compose the pull-request comment', 'ran'],
      ['Post or update the check comment', 'not-run'],
      ['Fail on an invalid configuration or a plan apply would refuse as modified', 'ran'],
    ]);
    for (const st of j.steps.filter((x) => x.status === 'ran')) {
      for (const [name, value] of Object.entries(secrets)) expect(Object.values(st.env ?? {}), `${st.label} got ${name}`).not.toContain(value);
    }
    expect(j.step('validate').outputs).toEqual({ exitcode: '0' });
    expect(j.step('proposed').outputs).toEqual({ proposed: 'true', exitcode: '0' });
    expect(j.step('proposed').stdout).toContain('· intact · signed · approved by Reviewer (plain name, not signed) · expires ');
    const comment = readFileSync(path.join(ws, 'comment.md'), 'utf8');
    expect(comment).toContain('**Checked here** (without any secret):');
    expect(comment).toContain(`- ✅ content matches its digest \`${approved.digest}\``);
    expect(comment).toContain('- ✅ approved by Reviewer');
    expect(comment).toMatch(/^- ✅ expires \d{4}-/m);
    expect(comment).toContain('- ✅ carries a signature');
    expect(comment).toContain("**Not checked here**: the signature's key and whether HelloID still has the members the plan observed (drift).");
    expect(comment).toContain(`| Digest | \`${approved.digest}\` |`);
    expect(comment).toContain('| Approvals | Reviewer (plain name, not signed) |');
    // It never talked to Exchange or HelloID: it has no credentials to.
    expect(e.emulator.stats().totals.requests).toBe(requests);
    expect(helloidWrites(e.emulator)).toBe(0);
  });

  it('a PR that only changes ownersync.yaml gets the effective scope, and says what it cannot check', async () => {
    const branch = w.clone('config-change');
    w.git(branch, 'switch', '--quiet', '-c', 'narrow-scope');
    const cfg = path.join(branch, 'ownersync.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('exchange:\n', "exchange:\n  mailboxFilter: DisplayName -like 'Fin*'\n"));
    w.git(branch, 'commit', '--quiet', '-am', 'Narrow the scope');
    w.git(branch, 'push', '--quiet', 'origin', 'narrow-scope');
    const ws = w.clone('job-check-config');
    w.git(ws, 'fetch', '--quiet', 'origin', 'narrow-scope');
    w.git(ws, 'merge', '--quiet', '--no-ff', '-m', 'Merge into main', 'FETCH_HEAD');
    const j = await job(planWf, 'check', ws, context('pull_request', { ref: 'refs/pull/2/merge', refName: '2/merge', pullRequestHeadRepo: 'contoso/identity-config', secrets: {} }));
    expect(j.status, describeJob(j)).toBe('success');
    expect(j.step('proposed').outputs).toEqual({});
    const comment = readFileSync(path.join(ws, 'comment.md'), 'utf8');
    expect(comment).toContain("  mailboxes:       shared mailboxes matching exchange.mailboxFilter: DisplayName -like 'Fin*'");
    expect(comment).toContain('**Not checked here**: what the change does to HelloID');
  });

  it('after merge, the apply job applies the plan: exit 0, receipt written, HelloID equals the plan; no replan', async () => {
    const changed = mergePlanPr();
    expect(applyTriggers(changed), changed.join(',')).toBe(true);
    const ws = w.clone('job-apply-1');
    plan1 = readPlanDoc(path.join(ws, 'plans/plan.yaml'));
    expect(plan1.digest).toBe(approved.digest);

    const j = await job(applyWf, 'apply', ws, context('push'));
    const dump = describeJob(j);
    expect(j.status, dump).toBe('success');
    expect(j.steps.map((s) => [s.label, s.status])).toEqual([
      ['uses:actions/checkout@v4', 'not-run'],
      ['uses:actions/setup-node@v4', 'not-run'],
      ['Install ownersync', 'not-run'],
      ['Show the plan', 'ran'],
      ['Restore the journal of an earlier apply of this plan', 'not-run'],
      ['Apply', 'ran'],
      ['Summary', 'ran'],
      ['Upload the receipt and the journal', 'not-run'],
      ['Save the journal for a re-run', 'not-run'],
      ['Fail unless applied', 'skipped-if'],
    ]);
    // The cache key part: the digest without its prefix.
    expect(j.step('show').outputs).toEqual({ digest: plan1.digest.replace(/^sha256:/, '') });
    expect(j.step('apply').outputs).toEqual({ exitcode: '0' });
    expect(j.jobOutputs).toEqual({ exitcode: '0' });
    expect(replanRuns(j)).toBe(false);
    expect(j.step('Summary').exitCode, dump).toBe(0);

    const out = readJson<ApplyJson>(path.join(ws, 'apply.json'));
    expect(out).toMatchObject({ status: 'applied', digest: plan1.digest, summary: { done: 13, already: 0, failed: 0, skipped: 0 } });
    expect(existsSync(path.join(ws, 'plans/plan.yaml.receipt.json'))).toBe(true);
    expect(existsSync(path.join(ws, 'plans/plan.yaml.journal.jsonl'))).toBe(true);
    expect(j.summary).toContain('## ownersync apply');
    expect(j.summary).toContain(`**Applied** \`${plan1.digest}\`: 13 done, 0 already in place, 0 done by an earlier run.`);

    expect(snapshot(e.emulator)).toEqual(expectedAfter(before, plan1));
    expect(helloidWrites(e.emulator)).toBe(13);
  });

  it('the plan job run again finds no changes (exit 0): the job passes, the desired state is unchanged', async () => {
    const writes = helloidWrites(e.emulator);
    const ws = w.clone('job-plan-2');
    const j = await job(planWf, 'plan', ws, context('schedule'));
    const dump = describeJob(j);
    expect(j.status, dump).toBe('success');
    const p = j.step('plan');
    expect(p.outputs).toEqual({ exitcode: '0' });
    expect(p.stdout).toContain('::notice::No changes: the HelloID resource-owner groups match Exchange FullAccess.');
    expect(p.env?.OVERRIDE_LIMITS).toBe(''); // a schedule has no inputs
    expect(j.step('Fail on error (1) or refusal by the safety limits (3)').status).toBe('skipped-if');
    // propose would close the (now stale) plan PR: needs.plan.outputs.exitcode == '0'.
    expect(j.jobOutputs).toEqual({ exitcode: '0' });
    expect(j.summary).toContain('No changes: HelloID resource-owner groups match Exchange FullAccess.');
    expect(readPlanDoc(path.join(ws, 'plans/plan.yaml')).changes).toEqual([]);
    // Exchange did not change, so the committed desired state is still right.
    expect(w.git(ws, 'status', '--porcelain', '--', 'desired-state.yaml')).toBe('');
    expect(helloidWrites(e.emulator)).toBe(writes);
  });

  let removedAdd: PlanDoc['changes'][number];
  it('a plan edited after approval is refused by the apply job: exit 3, zero HelloID writes, and replan asks for a fresh plan', async () => {
    // Someone removes a member by hand in HelloID: the next plan puts it back.
    removedAdd = plan1.changes.find((c) => c.action === 'add')!;
    expect(e.emulator.state.helloid.removeMember(removedAdd.groupGuid, removedAdd.userGuid)).toBe('removed');
    const planWs = w.clone('job-plan-3');
    const pj = await job(planWf, 'plan', planWs, context('workflow_dispatch'));
    expect(pj.status, describeJob(pj)).toBe('success');
    expect(pj.step('plan').outputs).toEqual({ exitcode: '2' });
    const plan2 = readPlanDoc(path.join(planWs, 'plans/plan.yaml'));
    expect(plan2.changes.map((c) => [c.action, c.groupGuid, c.userGuid])).toEqual([['add', removedAdd.groupGuid, removedAdd.userGuid]]);
    await propose(planWs, pj);
    const reviewer = await reviewerApproves();

    // After the approval, a hand edit of the plan (one userGuid line) is pushed and merged.
    w.git(reviewer, 'pull', '--quiet');
    const file = path.join(reviewer, 'plans/plan.yaml');
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('\nchanges:\n');
    expect(at).toBeGreaterThan(0);
    const edited = text.slice(0, at) + text.slice(at).replace(/userGuid: (\S+)/, (_m, g: string) => `userGuid: ${otherGuid(g)}`);
    expect(edited).not.toBe(text);
    writeFileSync(file, edited);
    w.git(reviewer, 'commit', '--quiet', '-am', 'Fix the plan');
    w.git(reviewer, 'push', '--quiet');
    const changed = mergePlanPr();
    expect(applyTriggers(changed), changed.join(',')).toBe(true);

    const membership = snapshot(e.emulator);
    const writes = helloidWrites(e.emulator);
    const ws = w.clone('job-apply-2');
    const j = await job(applyWf, 'apply', ws, context('push'));
    const dump = describeJob(j);
    expect(j.status, dump).toBe('failure');
    // The edit also makes the plan inconsistent, so `show` refuses it as modified (exit 3);
    // the step warns and goes on, so that Apply gets to refuse it too.
    const show = j.step('show');
    expect(show.exitCode, dump).toBe(0);
    expect(show.stdout).toContain('::warning::ownersync show could not read plans/plan.yaml; the Apply step says why.');
    expect(show.stderr).toContain('plans/plan.yaml has been modified after it was planned');
    expect(show.outputs).toEqual({ digest: '' });
    // The Apply step captures the CLI's exit code; 3 is what it saw.
    expect(j.step('apply').exitCode, dump).toBe(0);
    expect(j.step('apply').outputs).toEqual({ exitcode: '3' });
    expect(j.step('apply').stderr).toContain('has been modified after it was planned');
    const out = readJson<ApplyJson>(path.join(ws, 'apply.json'));
    expect(out.status).toBe('refused');
    expect(out.error?.exitCode).toBe(3);
    expect(out.error?.message).toContain('plans/plan.yaml has been modified after it was planned');
    expect(out.summary).toEqual({ done: 0, already: 0, failed: 0, skipped: 0 });
    // The workflow's failure path: the summary explains, the last step fails the job.
    expect(j.step('Summary').exitCode, dump).toBe(0);
    expect(j.summary).toContain('**Refused** (exit 3). Nothing was changed:');
    expect(j.summary).toMatch(/^> refusing to apply: plans\/plan\.yaml has been modified after it was planned/m);
    expect(j.summary).toContain('A fresh plan is on its way: the job **replan** started ownersync-plan');
    const fail = j.step('Fail unless applied');
    expect(fail.status).toBe('ran');
    expect(fail.exitCode).toBe(1);
    expect(fail.stdout).toContain('ownersync apply exited 3: see the job summary.');

    expect(existsSync(path.join(ws, 'plans/plan.yaml.receipt.json'))).toBe(false);
    expect(helloidWrites(e.emulator) - writes).toBe(0);
    expect(snapshot(e.emulator)).toEqual(membership);

    // needs.apply.outputs.exitcode == '3': the replan job starts ownersync-plan on main.
    expect(j.jobOutputs).toEqual({ exitcode: '3' });
    expect(await replan(j)).toEqual(['workflow run ownersync-plan.yml --ref main']);
  });

  it('stale plan: HelloID changes between approval and merge, apply refuses it as drifted, and a fresh plan PR follows by itself', async () => {
    // The plan the replan job asked for: a workflow_dispatch run of ownersync-plan on main.
    const planWs = w.clone('job-plan-4');
    const pj = await job(planWf, 'plan', planWs, context('workflow_dispatch'));
    expect(pj.status, describeJob(pj)).toBe('success');
    expect(pj.jobOutputs).toEqual({ exitcode: '2' });
    const plan3 = readPlanDoc(path.join(planWs, 'plans/plan.yaml'));
    expect(plan3.changes.map((c) => [c.action, c.groupGuid, c.userGuid])).toEqual([['add', removedAdd.groupGuid, removedAdd.userGuid]]);
    // The propose job opens the fresh plan PR by itself (gh pr create).
    expect((await propose(planWs, pj)).filter((c) => c.startsWith('pr create'))).toHaveLength(1);
    await reviewerApproves();

    // Before the merge, someone adds a member to that group by hand: HelloID drifts from the plan.
    const group = e.emulator.state.helloid.groups.find((g) => g.groupGuid.toLowerCase() === removedAdd.groupGuid.toLowerCase())!;
    const outsider = e.emulator.state.helloid.users.find((u) => !group.members.has(u.userGUID) && u.userGUID.toLowerCase() !== removedAdd.userGuid.toLowerCase())!;
    expect(e.emulator.state.helloid.addMember(removedAdd.groupGuid, outsider.userGUID)).toBe('added');
    expect(applyTriggers(mergePlanPr())).toBe(true);

    const writes = helloidWrites(e.emulator);
    const ws = w.clone('job-apply-3');
    const j = await job(applyWf, 'apply', ws, context('push'));
    expect(j.status, describeJob(j)).toBe('failure');
    expect(j.step('apply').outputs).toEqual({ exitcode: '3' });
    const out = readJson<ApplyJson>(path.join(ws, 'apply.json'));
    expect(out.status).toBe('refused');
    expect(out.error?.message).toContain('drifted');
    expect(helloidWrites(e.emulator)).toBe(writes);
    expect(await replan(j)).toEqual(['workflow run ownersync-plan.yml --ref main']);

    // The run it starts makes a fresh plan from the HelloID of now, which is proposed, approved, merged and applied.
    const freshWs = w.clone('job-plan-5');
    const fj = await job(planWf, 'plan', freshWs, context('workflow_dispatch'));
    expect(fj.jobOutputs).toEqual({ exitcode: '2' });
    const plan4 = readPlanDoc(path.join(freshWs, 'plans/plan.yaml'));
    expect(plan4.digest).not.toBe(plan3.digest);
    expect(plan4.changes.map((c) => [c.action, c.groupGuid, c.userGuid]).sort()).toEqual(
      [
        ['add', removedAdd.groupGuid, removedAdd.userGuid],
        ['remove', removedAdd.groupGuid, outsider.userGUID],
      ].sort(),
    );
    expect((await propose(freshWs, fj)).filter((c) => c.startsWith('pr create'))).toEqual([
      expect.stringMatching(/^pr create --head ownersync\/plan --base main --title ownersync plan: 1 to add, 1 to remove \(/),
    ]);
    await reviewerApproves();
    expect(applyTriggers(mergePlanPr())).toBe(true);
    const aj = await job(applyWf, 'apply', w.clone('job-apply-4'), context('push'));
    expect(aj.status, describeJob(aj)).toBe('success');
    expect(aj.jobOutputs).toEqual({ exitcode: '0' });
    expect(replanRuns(aj)).toBe(false);
    expect(snapshot(e.emulator)).toEqual(expectedAfter(before, plan1));

    const again = await job(planWf, 'plan', w.clone('job-plan-6'), context('schedule'));
    expect(again.jobOutputs).toEqual({ exitcode: '0' });
  });
});

describe('the pipeline runner refuses to guess', () => {
  const state = { ctx: { eventName: 'push', ref: 'refs/heads/main', refName: 'main', defaultBranch: 'main', repository: 'o/r', serverUrl: 'https://x', runId: '1', runAttempt: '1', secrets: {}, inputs: {} } as RunContext, steps: { plan: { exitcode: '2' } } };

  it('substitutes only listed expressions and step outputs; any other ${{ }} fails', () => {
    expect(substitute('a ${{ steps.plan.outputs.exitcode }} b ${{ steps.x.outputs.y }}.', {}, state, 't')).toBe('a 2 b .');
    expect(substitute('${{ github.run_id }}', EXPRS, state, 't')).toBe('1');
    expect(() => substitute('echo ${{ github.actor }}', EXPRS, state, 'here')).toThrow(/here: no substitution for the expression \$\{\{ github\.actor \}\}/);
  });

  it('evaluates only listed conditions, with the implicit success() unless a status function is named', () => {
    expect(evalCondition("github.ref == 'refs/heads/main'", CONDS, state, false, 't')).toBe(true);
    expect(evalCondition("github.ref == 'refs/heads/main'", CONDS, state, true, 't')).toBe(false);
    expect(evalCondition("always() && steps.apply.outputs.exitcode != '0'", CONDS, state, true, 't')).toBe(true);
    expect(evalCondition(undefined, CONDS, state, true, 't')).toBe(false);
    expect(() => evalCondition('github.actor == "me"', CONDS, state, false, 'here')).toThrow(/here: no entry for the condition/);
  });

  it('parses GITHUB_OUTPUT lines and heredoc blocks', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ownersync-gh-output-'));
    try {
      const f = path.join(dir, 'out');
      writeFileSync(f, 'a=1\nb=x=y\nbody<<EOF\nline 1\nline 2\nEOF\n');
      expect(parseCommandFile(f)).toEqual({ a: '1', b: 'x=y', body: 'line 1\nline 2' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
