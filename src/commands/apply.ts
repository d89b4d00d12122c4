/**
 * `ownersync apply PLAN`: execute an approved, intact, fresh plan against HelloID.
 * Every refusal (exit 3) happens before the first write; a write that fails for good
 * never stops the others and ends in exit 4, and a re-run resumes from the journal.
 */
import { Args, Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import YAML from 'yaml';
import { BaseCommand } from '../cli/base-command.js';
import { makeChalk } from '../cli/color.js';
import { makeProgress } from '../cli/progress.js';
import { renderPlanText } from '../cli/render/text.js';
import { applyPlan, type ApplyResult } from '../apply/index.js';
import { configDigest, DEFAULT_CONFIG_FILE, loadConfig } from '../config/index.js';
import { ExitCode, RefusedError } from '../errors.js';
import { SIGNING_KEY_ENV } from '../plan/index.js';
import { redact, registerSecret } from '../redact.js';
import { createHelloIdWriter } from '../sync/clients.js';

export interface ApplyJsonOutput {
  status: ApplyResult['status'] | 'refused';
  digest: string;
  summary: { done: number; already: number; failed: number; skipped: number };
  changes: Array<{ action: string; groupGuid: string; groupName: string; userGuid: string; userName: string; outcome: string; error?: string }>;
  receiptPath?: string;
  journalPath?: string;
  /** With status 'refused': why (the same text as on stderr) and the exit code, 3. */
  error?: { message: string; exitCode: number };
}

/** The digest recorded in a plan file, read leniently (the file may be the very reason for the refusal). */
function recordedDigest(file: string | undefined): string {
  if (file === undefined) return '';
  try {
    const v = YAML.parse(readFileSync(file, 'utf8')) as { digest?: unknown } | null;
    return typeof v?.digest === 'string' ? v.digest : '';
  } catch {
    return '';
  }
}

export class Apply extends BaseCommand {
  static override summary = 'Execute an approved plan against HelloID.';
  static override description =
    'Refuses (exit 3, nothing changed) a plan that was modified, is unsigned when signatures are required, carries no approval for its digest, has expired, targets another HelloID/tenant/config, or whose groups changed in HelloID since it was planned. Then makes the changes with bounded concurrency and retries, journaling every outcome beside the plan so a re-run resumes, and writes a receipt. Exit 4 when some writes failed for good (every other change is made).';
  static override examples = ['<%= config.bin %> apply plan.yaml', '<%= config.bin %> apply plan.yaml --json', '<%= config.bin %> apply plan.yaml --allowed-signers .ownersync/allowed_signers'];
  static override enableJsonFlag = true;
  static override args = { plan: Args.string({ description: 'The approved plan file.', required: true }) };
  static override flags = {
    config: Flags.string({ char: 'c', description: 'Configuration file (must be the one the plan was made with).', default: DEFAULT_CONFIG_FILE }),
    'auto-approve': Flags.boolean({ description: 'Apply without a recorded approval or prompt: for scripted local use, or inside a protected CI environment whose required reviewers are the approval.' }),
    'allowed-signers': Flags.string({ description: 'Only count SSH-signed approvals that verify against this allowed-signers file.' }),
    quiet: Flags.boolean({ char: 'q', description: 'No progress on stderr.' }),
  };

  private planArg: string | undefined;

  /**
   * With --json a refusal is printed in the apply-output schema's own shape (status
   * 'refused', nothing done), so a pipeline parsing stdout reads one document type;
   * the `error` member keeps it compatible with the generic `{ error }` of other failures.
   */
  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (this.jsonEnabled() && err instanceof RefusedError) {
      const out: ApplyJsonOutput = {
        status: 'refused',
        digest: recordedDigest(this.planArg),
        summary: { done: 0, already: 0, failed: 0, skipped: 0 },
        changes: [],
        error: { message: redact(err.message), exitCode: err.exitCode },
      };
      this.logJson(out);
      throw err;
    }
    return super.catch(err);
  }

  async run(): Promise<ApplyJsonOutput> {
    const { args, flags } = await this.parse(Apply);
    this.planArg = args.plan;
    const json = this.jsonEnabled();
    const c = makeChalk({ noColor: flags['no-color'] });
    const cfg = await loadConfig(flags.config);
    const signingKey = process.env[SIGNING_KEY_ENV] || undefined;
    registerSecret(signingKey);
    const interactive = !json && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY) && !process.env.CI;
    const progress = makeProgress({ enabled: !json && !flags.quiet });
    const writer = createHelloIdWriter(cfg);
    let result: ApplyResult;
    try {
      result = await applyPlan({
        planPath: args.plan,
        config: cfg,
        configDigest: configDigest(cfg),
        api: writer.api,
        signingKey,
        autoApprove: flags['auto-approve'],
        allowedSigners: flags['allowed-signers'],
        confirm: interactive
          ? async ({ plan }) => {
              process.stdout.write(renderPlanText(plan, { chalk: c }));
              const rl = createInterface({ input: process.stdin, output: process.stdout });
              try {
                const answer = await rl.question(`\nThis plan has no recorded approval. Apply it to ${plan.target.helloidBaseUrl}?\n  Only 'yes' will be accepted: `);
                return answer.trim() === 'yes';
              } finally {
                rl.close();
              }
            }
          : undefined,
        onEvent: (ev) => {
          if (ev.type === 'verified' && !json) {
            const who = ev.approvals.map((a) => a.by).join(', ');
            this.log(`${args.plan}: intact, ${ev.plan.signature ? 'signed, ' : ''}${who ? `approved by ${who}` : ev.autoApproved ? 'auto-approved' : 'not approved'}, expires ${ev.plan.expiresAt}.`);
          } else if (ev.type === 'drift' && !json) {
            const counts = new Map<string, number>();
            for (const g of ev.report.perGroup) counts.set(g.state, (counts.get(g.state) ?? 0) + 1);
            this.log(`Checked ${ev.report.perGroup.length} group(s) in HelloID: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}.`);
          } else if (ev.type === 'progress') {
            progress.update('Applying', `${ev.progress.finished}/${ev.progress.total} changes`);
          }
        },
      });
    } finally {
      progress.done();
      await writer.close();
    }

    const receipt = result.receipt;
    const out: ApplyJsonOutput = {
      status: result.status,
      digest: result.plan.digest,
      summary: receipt ? { done: receipt.summary.done, already: receipt.summary.already, failed: receipt.summary.failed, skipped: receipt.summary.skipped } : { done: 0, already: 0, failed: 0, skipped: 0 },
      changes: (receipt?.changes ?? []).map((ch) => ({ action: ch.action, groupGuid: ch.groupGuid, groupName: ch.groupName, userGuid: ch.userGuid, userName: ch.userName, outcome: ch.outcome, ...(ch.error ? { error: ch.error } : {}) })),
      ...(result.receiptPath ? { receiptPath: result.receiptPath } : {}),
      journalPath: result.journalPath,
    };
    if (!json) {
      if (result.status === 'already-applied') {
        this.log(c.green(`Already applied: every group in ${args.plan} already has its planned members. Nothing to do.`));
      } else if (receipt) {
        for (const ch of receipt.changes) {
          const sign = ch.action === 'add' ? c.green('+') : c.red('-');
          const mark = ch.outcome === 'failed' ? c.red('FAILED') : ch.outcome === 'done' ? c.green('done') : c.dim(ch.outcome);
          this.log(`  ${sign} ${ch.groupName}: ${ch.userName}  ${mark}${ch.error ? `  ${ch.error}` : ''}`);
        }
        const s = receipt.summary;
        const line = `Apply ${result.status === 'applied' ? 'complete' : 'PARTLY FAILED'}: ${s.done} done, ${s.already} already in place, ${s.skipped} done by an earlier run, ${s.failed} failed.`;
        this.log(result.status === 'applied' ? c.bold.green(line) : c.bold.red(line));
        this.log(c.dim(`Receipt: ${result.receiptPath}  Journal: ${result.journalPath}`));
        if (result.status === 'partial') this.log(`Re-run \`ownersync apply ${args.plan}\` to retry the failed changes; done ones are not repeated.`);
      }
    }
    if (result.exitCode === 4) process.exitCode = ExitCode.PARTIAL;
    return out;
  }
}
