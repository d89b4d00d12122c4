/**
 * What `apply` prints: a line per event (verified with each approval's worth, groups
 * checked, progress), the outcome per change, and the `--json` document
 * (schemas/output/apply-output.schema.json), including the one for a refusal.
 */
import { plural } from '../../plural.js';
import type { ChalkInstance } from 'chalk';
import { createInterface } from 'node:readline/promises';
import type { ApplyEvent, ApplyResult } from '../../apply/index.js';
import { describeApproval, type ApprovalStatus } from '../../plan/approval-status.js';
import type { PlanFile } from '../../plan/types.js';
import { redact } from '../../redact.js';
import type { Progress } from '../progress.js';
import { renderPlanText } from './text.js';

export interface ApplyJsonOutput {
  status: ApplyResult['status'] | 'refused';
  /** true for `apply --dry-run`: nothing was (or would have been) written by this run. */
  dryRun: boolean;
  digest: string;
  summary: { done: number; already: number; failed: number; skipped: number };
  changes: Array<{ action: string; groupGuid: string; groupName: string; userGuid: string; userName: string; outcome: string; error?: string }>;
  /** Every approval of the plan's digest and what it is worth (absent for a refusal). */
  approvals?: Array<{ by: string; at: string; kind: ApprovalStatus['kind']; counted: boolean; reason?: string }>;
  receiptPath?: string;
  journalPath?: string;
  /** With status 'refused': why (the same text as on stderr) and the exit code, 3. */
  error?: { message: string; exitCode: number };
}

const NOTHING = { done: 0, already: 0, failed: 0, skipped: 0 };

/** The --json document of a refusal: nothing done. */
export function refusedJson(message: string, exitCode: number, digest: string, dryRun: boolean): ApplyJsonOutput {
  return { status: 'refused', dryRun, digest, summary: NOTHING, changes: [], error: { message: redact(message), exitCode } };
}

export function applyJson(result: ApplyResult): ApplyJsonOutput {
  const receipt = result.receipt;
  const counted = new Set(result.approvals);
  return {
    status: result.status,
    dryRun: result.dryRun,
    digest: result.plan.digest,
    summary: receipt ? { done: receipt.summary.done, already: receipt.summary.already, failed: receipt.summary.failed, skipped: receipt.summary.skipped } : NOTHING,
    changes: (receipt?.changes ?? []).map((ch) => ({ action: ch.action, groupGuid: ch.groupGuid, groupName: ch.groupName, userGuid: ch.userGuid, userName: ch.userName, outcome: ch.outcome, ...(ch.error ? { error: ch.error } : {}) })),
    approvals: result.approvalStatuses.map((s) => ({ by: s.approval.by, at: s.approval.at, kind: s.kind, counted: counted.has(s.approval), ...(s.reason ? { reason: s.reason } : {}) })),
    ...(result.receiptPath ? { receiptPath: result.receiptPath } : {}),
    journalPath: result.journalPath,
  };
}

/**
 * "approved by alice (SSH-signed, verified); not counted (only verified SSH-signed
 * approvals count, allowed signers: FILE): Jane Doe (plain name, not signed)".
 */
export function approvalsText(statuses: ApprovalStatus[], counted: ReadonlySet<unknown>, allowedSigners: string | undefined, autoApproved: boolean): string {
  const yes = statuses.filter((s) => counted.has(s.approval));
  const no = statuses.filter((s) => !counted.has(s.approval));
  let text = yes.length > 0 ? `approved by ${yes.map(describeApproval).join(', ')}` : autoApproved ? 'auto-approved' : 'not approved';
  if (no.length > 0) text += `; not counted (only verified SSH-signed approvals count, allowed signers: ${allowedSigners}): ${no.map(describeApproval).join(', ')}`;
  return text;
}

/** The onEvent handler of the text output (progress also goes to stderr with --json off). */
export function applyEventRenderer(log: (line: string) => void, progress: Progress, opts: { json: boolean; planPath: string }): (ev: ApplyEvent) => void {
  return (ev) => {
    if (ev.type === 'progress') progress.update('Applying', `${ev.progress.finished}/${ev.progress.total} changes`);
    if (opts.json) return;
    if (ev.type === 'verified') {
      const approvals = approvalsText(ev.approvalStatuses, new Set(ev.approvals), ev.allowedSigners, ev.autoApproved);
      log(`${opts.planPath}: intact, ${ev.plan.signature ? 'signed, ' : ''}${approvals}, expires ${ev.plan.expiresAt}.`);
    } else if (ev.type === 'drift') {
      const counts = new Map<string, number>();
      for (const g of ev.report.perGroup) counts.set(g.state, (counts.get(g.state) ?? 0) + 1);
      log(`Checked ${plural(ev.report.perGroup.length, 'group')} and their users in HelloID: names as planned; ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}.`);
    }
  };
}

/** The interactive confirmation: the plan, then a question only 'yes' answers. */
export async function askToApply(plan: PlanFile, c: ChalkInstance): Promise<boolean> {
  process.stdout.write(renderPlanText(plan, { chalk: c }));
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`\nThis plan has no recorded approval. Apply it to ${plan.target.helloidBaseUrl}?\n  Only 'yes' will be accepted: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

/** The closing lines of a text run. */
export function renderApplyResult(result: ApplyResult, planPath: string, c: ChalkInstance): string[] {
  const out: string[] = [];
  const { add, remove } = result.plan.summary;
  if (result.status === 'already-applied') {
    out.push(c.green(`Already applied: every group in ${planPath} already has its planned members. ${result.dryRun ? 'Apply would write nothing.' : 'Nothing to do.'}`));
  } else if (result.status === 'would-apply') {
    const open = result.drift.perGroup.filter((g) => g.state !== 'done').length;
    out.push(c.bold.green(`Dry run: every check passed; apply would go ahead (${add} to add, ${remove} to remove; ${plural(open, 'group')} not yet as planned). Nothing was written.`));
  } else if (result.receipt) {
    for (const ch of result.receipt.changes) {
      const sign = ch.action === 'add' ? c.green('+') : c.red('-');
      const mark = ch.outcome === 'failed' ? c.red('FAILED') : ch.outcome === 'done' ? c.green('done') : c.dim(ch.outcome);
      out.push(`  ${sign} ${ch.groupName}: ${ch.userName}  ${mark}${ch.error ? `  ${ch.error}` : ''}`);
    }
    const s = result.receipt.summary;
    const line = `Apply ${result.status === 'applied' ? 'complete' : 'PARTLY FAILED'}: ${s.done} done, ${s.already} already in place, ${s.skipped} done by an earlier run, ${s.failed} failed.`;
    out.push(result.status === 'applied' ? c.bold.green(line) : c.bold.red(line));
    out.push(c.dim(`Receipt: ${result.receiptPath}  Journal: ${result.journalPath}`));
    if (result.status === 'partial') out.push(`Re-run \`ownersync apply ${planPath}\` to retry the failed changes; done ones are not repeated.`);
  }
  return out;
}
