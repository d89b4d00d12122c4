/**
 * A deliberately small stand-in for a GitHub Actions runner, for the pipeline e2e test:
 * it parses the example workflow files with `yaml`, walks one job's steps in order and
 * executes their `run:` scripts the way GitHub does (`bash --noprofile --norc -eo
 * pipefail FILE`, in the job's workspace, with GITHUB_OUTPUT / GITHUB_ENV /
 * GITHUB_STEP_SUMMARY files per step). It is not an expression evaluator: every
 * `${{ … }}` and every `if:` it meets must be listed in the explicit tables the test
 * passes in, so a workflow change the test does not know about fails the test instead
 * of being guessed at. Steps the test cannot run (actions, network) are skipped only
 * when the test names them with a reason; an unlisted `uses:` step fails the job.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export interface WorkflowStep {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string | boolean;
  env?: Record<string, string | number | boolean>;
  shell?: string;
  'working-directory'?: string;
  'continue-on-error'?: boolean;
}

export interface WorkflowJob {
  if?: string;
  env?: Record<string, string | number | boolean>;
  outputs?: Record<string, string>;
  steps: WorkflowStep[];
}

export interface Workflow {
  name: string;
  env?: Record<string, string | number | boolean>;
  jobs: Record<string, WorkflowJob>;
}

export function loadWorkflow(file: string): Workflow {
  const doc = YAML.parse(readFileSync(file, 'utf8')) as Workflow;
  if (!doc || typeof doc !== 'object' || !doc.jobs) throw new Error(`${file}: not a workflow (no jobs)`);
  return doc;
}

/** What a step is called in reports and tables: its name, else `id:…`, else `uses:…`. */
export function stepLabel(s: WorkflowStep): string {
  return s.name ?? (s.id ? `id:${s.id}` : s.uses ? `uses:${s.uses}` : '(unnamed run step)');
}

/** The event a job runs for and what the expression tables may read. */
export interface RunContext {
  eventName: 'push' | 'pull_request' | 'schedule' | 'workflow_dispatch';
  /** e.g. refs/heads/main */
  ref: string;
  refName: string;
  defaultBranch: string;
  repository: string;
  serverUrl: string;
  runId: string;
  runAttempt: string;
  secrets: Record<string, string>;
  inputs: Record<string, string>;
  /** pull_request only: github.event.pull_request.head.repo.full_name */
  pullRequestHeadRepo?: string;
  /** `needs.<job>.outputs`, for a job that runs after others. */
  needs?: Record<string, Record<string, string>>;
}

/** What an expression or condition can see while a job runs. */
export interface ExprState {
  ctx: RunContext;
  /** step id → outputs written to GITHUB_OUTPUT so far */
  steps: Record<string, Record<string, string>>;
}

/** Exact expression text (inside `${{ }}`, trimmed) → its value. */
export type ExprTable = Record<string, (s: ExprState) => string>;
/** Exact `if:` text (trimmed) → whether it holds (without the implicit success()). */
export type CondTable = Record<string, (s: ExprState) => boolean>;

/** The one pattern rule besides the exact table: `steps.<id>.outputs.<name>`; unset outputs are ''. */
const STEP_OUTPUT = /^steps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)$/;

export function substitute(text: string, table: ExprTable, s: ExprState, where: string): string {
  const out = text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, inner: string) => {
    const expr = inner.trim();
    const fn = table[expr];
    if (fn) return fn(s);
    const m = STEP_OUTPUT.exec(expr);
    if (m) return s.steps[m[1]!]?.[m[2]!] ?? '';
    throw new Error(`${where}: no substitution for the expression \${{ ${expr} }}; add it to the test's table`);
  });
  if (out.includes('${{')) throw new Error(`${where}: an unsubstituted \${{ remains`);
  return out;
}

/** GitHub's rule: a condition without a status function gets an implicit success(). */
function hasStatusFunction(cond: string): boolean {
  return /\b(always|success|failure|cancelled)\(\)/.test(cond);
}

export function evalCondition(cond: string | boolean | undefined, table: CondTable, s: ExprState, jobFailed: boolean, where: string): boolean {
  if (cond === undefined) return !jobFailed;
  if (typeof cond === 'boolean') return cond && !jobFailed;
  const text = cond.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1').trim();
  const fn = table[text];
  if (!fn) throw new Error(`${where}: no entry for the condition \`if: ${text}\`; add it to the test's table`);
  return (hasStatusFunction(text) || !jobFailed) && fn(s);
}

/** Parses a GITHUB_OUTPUT / GITHUB_ENV file: `k=v` lines and `k<<DELIM … DELIM` blocks. */
export function parseCommandFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(file)) return out;
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i]!);
      out[heredoc[1]!] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`${file}: malformed line '${line}'`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export interface StepRecord {
  label: string;
  id?: string;
  /** ran: the script ran (see exitCode); skipped-if: its condition was false; not-run: skipped by the test, see reason. */
  status: 'ran' | 'skipped-if' | 'not-run';
  reason?: string;
  exitCode?: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The env the script got (for checks such as "the signing key was empty"). */
  env?: Record<string, string>;
}

export interface JobResult {
  status: 'success' | 'failure';
  steps: StepRecord[];
  /** step id → outputs */
  outputs: Record<string, Record<string, string>>;
  /** The job's `outputs:` as a downstream job (`needs.<job>.outputs`) would see them. */
  jobOutputs: Record<string, string>;
  /** Every step's GITHUB_STEP_SUMMARY, in order, as GitHub concatenates them. */
  summary: string;
  step(label: string): StepRecord;
}

export interface RunJobOptions {
  workflow: Workflow;
  job: string;
  ctx: RunContext;
  /** The job's checkout. */
  workspace: string;
  /** Scratch space for step files (RUNNER_TEMP). */
  runnerTemp: string;
  /** The runner's own environment (PATH with the shims, HOME, CA trust, …). */
  runnerEnv: Record<string, string>;
  exprs: ExprTable;
  conds: CondTable;
  /** step label → why the test does not run it. Every `uses:` step must be listed. */
  notRun: Record<string, string>;
  timeoutMs?: number;
}

function stringEnv(env: Record<string, string | number | boolean> | undefined, table: ExprTable, s: ExprState, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) out[k] = substitute(String(v), table, s, `${where} env.${k}`);
  return out;
}

function runBash(script: string, cwd: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // GitHub's default for run steps on Linux: bash --noprofile --norc -eo pipefail {0}
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs one job of a workflow. Asynchronous on purpose: the emulator the scripts talk
 * to answers from this process's event loop.
 */
export async function runJob(o: RunJobOptions): Promise<JobResult> {
  const job = o.workflow.jobs[o.job];
  if (!job) throw new Error(`workflow ${o.workflow.name} has no job '${o.job}'`);
  const state: ExprState = { ctx: o.ctx, steps: {} };
  if (!evalCondition(job.if, o.conds, state, false, `job ${o.job}`)) throw new Error(`job ${o.job} would not run for ${o.ctx.eventName} on ${o.ctx.ref}`);

  const workflowEnv = stringEnv(o.workflow.env, o.exprs, state, o.workflow.name);
  const jobEnv = stringEnv(job.env, o.exprs, state, `job ${o.job}`);
  const githubEnv: Record<string, string> = {};
  const records: StepRecord[] = [];
  let failed = false;
  let summary = '';
  const timeoutMs = o.timeoutMs ?? 30_000;

  for (const [i, step] of job.steps.entries()) {
    const label = stepLabel(step);
    const where = `${o.workflow.name}/${o.job}/${label}`;
    const base = { label, ...(step.id ? { id: step.id } : {}), stdout: '', stderr: '', outputs: {}, summary: '' };
    const notRun = o.notRun[label];
    if (step.uses !== undefined && notRun === undefined) throw new Error(`${where}: an action step the test does not know; list it in notRun with the reason it is skipped`);
    if (notRun !== undefined) {
      records.push({ ...base, status: 'not-run', reason: notRun });
      continue;
    }
    if (step.run === undefined) throw new Error(`${where}: neither run nor uses`);
    if (step.shell !== undefined && step.shell !== 'bash') throw new Error(`${where}: shell ${step.shell} is not emulated`);
    if (!evalCondition(step.if, o.conds, state, failed, where)) {
      records.push({ ...base, status: 'skipped-if' });
      continue;
    }

    const dir = path.join(o.runnerTemp, `step-${i}`);
    mkdirSync(dir, { recursive: true });
    const files = { GITHUB_OUTPUT: path.join(dir, 'output'), GITHUB_ENV: path.join(dir, 'env'), GITHUB_STEP_SUMMARY: path.join(dir, 'summary'), GITHUB_PATH: path.join(dir, 'path') };
    for (const f of Object.values(files)) writeFileSync(f, '');
    const script = path.join(dir, 'script.sh');
    writeFileSync(script, substitute(step.run, o.exprs, state, `${where} run`));
    const env = { ...o.runnerEnv, ...workflowEnv, ...jobEnv, ...githubEnv, ...stringEnv(step.env, o.exprs, state, where), ...files };
    const cwd = step['working-directory'] ? path.resolve(o.workspace, step['working-directory']) : o.workspace;

    const r = await runBash(script, cwd, env, timeoutMs);
    const outputs = parseCommandFile(files.GITHUB_OUTPUT);
    if (step.id) state.steps[step.id] = outputs;
    Object.assign(githubEnv, parseCommandFile(files.GITHUB_ENV));
    if (readFileSync(files.GITHUB_PATH, 'utf8').trim() !== '') throw new Error(`${where}: GITHUB_PATH is not emulated`);
    const stepSummary = readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8');
    summary += stepSummary;
    records.push({ ...base, status: 'ran', exitCode: r.code, stdout: r.stdout, stderr: r.stderr, outputs, summary: stepSummary, env });
    if (r.code !== 0 && !step['continue-on-error']) failed = true;
  }

  const jobOutputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(job.outputs ?? {})) jobOutputs[k] = substitute(v, o.exprs, state, `job ${o.job} outputs.${k}`);

  return {
    status: failed ? 'failure' : 'success',
    steps: records,
    outputs: state.steps,
    jobOutputs,
    summary,
    step(label: string): StepRecord {
      const r = records.find((s) => s.label === label || s.id === label);
      if (!r) throw new Error(`job ${o.job} has no step '${label}' (steps: ${records.map((s) => s.label).join(', ')})`);
      return r;
    },
  };
}

/** A readable dump of a job for assertion messages. */
export function describeJob(j: JobResult): string {
  return [
    `job ${j.status}`,
    ...j.steps.map((s) =>
      s.status === 'ran'
        ? `--- ${s.label}: exit ${s.exitCode}\n[stdout]\n${s.stdout}[stderr]\n${s.stderr}[outputs] ${JSON.stringify(s.outputs)}`
        : `--- ${s.label}: ${s.status}${s.reason ? ` (${s.reason})` : ''}`,
    ),
  ].join('\n');
}
