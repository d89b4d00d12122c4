/**
 * The plan use case: read Exchange Online and HelloID, derive the desired state and the
 * plan, enforce the safety limits, sign, and write plan.yaml, desired-state.yaml and the
 * Markdown summary. `ownersync plan` parses its flags, calls `makePlan` and renders the
 * typed result; nothing here prints.
 *
 * Outputs are all-or-nothing in the ways that matter: a plan refused by the limits writes
 * nothing, and every output's directory is made before plan.yaml is written, so a missing
 * directory cannot leave a plan without its desired state.
 */
import { appendFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { configDigest } from '../config/index.js';
import type { EffectiveConfig } from '../config/types.js';
import { ExitCode, OwnersyncError } from '../errors.js';
import { buildPlan, limitsRefusalMessage, signPlan, writePlan, type PlanFile } from '../plan/index.js';
import { registerSecret } from '../redact.js';
import { exchangeChangesSince, readPreviousDesiredState, renderDesiredState, writeDesiredState } from '../state/desired-state-file.js';
import type { HttpClientOptions } from '../http/index.js';
import { createSources } from './clients.js';
import { readAndDiff, syncOptionsFrom, type ReadProgress, type ReadResult } from './read.js';

export interface MakePlanOptions {
  config: EffectiveConfig;
  planPath: string;
  statePath: string;
  markdownPath?: string;
  /** `--override-limits`: write a plan over the limits, recording the override for the reviewer. */
  overrideLimits: boolean;
  toolVersion: string;
  now: Date;
  /** OWNERSYNC_SIGNING_KEY, when set. */
  signingKey?: string;
  /** The demo emulator's CA. */
  extraCaPem?: string;
  httpOptions?: Omit<HttpClientOptions, 'service'>;
  progress?: ReadProgress;
  /** Sees the finished plan before anything is written (the transcript recorder). */
  onPlan?: (plan: PlanFile) => void;
  /** The Markdown summary of a written plan (the CLI's renderer; core modules do not render). */
  renderMarkdown: (plan: PlanFile) => string;
}

export type MakePlanResult =
  | { status: 'refused'; plan: PlanFile; message: string }
  | { status: 'written'; plan: PlanFile; markdown: string; counts: ReadResult['counts']; limitsExceeded: boolean };

export async function makePlan(o: MakePlanOptions): Promise<MakePlanResult> {
  const cfg = o.config;
  const sources = createSources(cfg, { extraCaPem: o.extraCaPem, ...(o.httpOptions ? { httpOptions: o.httpOptions } : {}) });
  let read: Pick<ReadResult, 'desired' | 'diff' | 'counts'> | undefined;
  try {
    // Only what the outputs need is kept: the snapshots of the read (every user, group and
    // permission row) are garbage before the outputs are built, `plan`'s memory peak.
    const { desired, diff, counts } = await readAndDiff(sources.exchange, sources.helloid, syncOptionsFrom(cfg), o.progress);
    read = { desired, diff, counts };
  } finally {
    await sources.close();
  }

  const stateText = renderDesiredState(read.desired, {
    exchangeTenantId: cfg.exchange.tenantId,
    mailboxFilter: cfg.exchange.mailboxFilter,
    expandGroups: cfg.exchange.expandGroups,
    groupPrefix: cfg.sync.groupPrefix,
    groupSuffix: cfg.sync.groupSuffix,
  });
  const violations = read.diff.limitViolations;
  const counts = read.counts;
  // Built even over the limits (violations recorded as overrides), so a refusal can show
  // the operator what broke them.
  let plan = buildPlan({
    diff: read.diff,
    config: cfg,
    configDigest: configDigest(cfg),
    toolVersion: o.toolVersion,
    now: o.now,
    overrideLimits: true,
    exchangeChanges: exchangeChangesSince(readPreviousDesiredState(o.statePath), stateText),
  });
  o.onPlan?.(plan);
  read = undefined; // the desired state and diff live on in stateText and the plan
  if (violations.length > 0 && !o.overrideLimits) {
    return { status: 'refused', plan: { ...plan, overrides: [] }, message: `${limitsRefusalMessage(violations)}\nNothing was written.` };
  }

  if (o.signingKey) {
    registerSecret(o.signingKey);
    plan = signPlan(plan, o.signingKey);
  }
  for (const file of [o.planPath, o.statePath, ...(o.markdownPath ? [o.markdownPath] : [])]) {
    await writeStep(file, async () => {
      await mkdir(dirname(file), { recursive: true });
    });
  }
  writePlan(o.planPath, plan);
  await writeStep(o.statePath, () => writeDesiredState(o.statePath, stateText));
  // Built (and digested) just above: intact by construction.
  const markdown = o.renderMarkdown(plan);
  if (o.markdownPath) await writeStep(o.markdownPath, () => writeFile(o.markdownPath!, markdown, 'utf8'));
  return { status: 'written', plan, markdown, counts, limitsExceeded: violations.length > 0 };
}

/** Append to the CI job summary ($GITHUB_STEP_SUMMARY), when there is one. */
export function appendJobSummary(text: string): void {
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, text);
}

/** A file system failure as an error that names the file (not a bare ENOENT). */
async function writeStep(file: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    throw new OwnersyncError(`${file}: cannot be written: ${err instanceof Error ? err.message : String(err)}`, ExitCode.ERROR, { cause: err });
  }
}
