/**
 * `ownersync apply PLAN`: execute an approved, intact, fresh plan against HelloID, or
 * with --dry-run make every check and write nothing. Parses flags, calls applyPlan,
 * renders its typed result (src/cli/render/apply.ts).
 */
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { makeChalk } from '../cli/color.js';
import { makeProgress } from '../cli/progress.js';
import { applyEventRenderer, applyJson, askToApply, refusedJson, renderApplyResult, type ApplyJsonOutput } from '../cli/render/apply.js';
import { applyPlan, recordedDigest, type ApplyResult } from '../apply/index.js';
import { configDigest, DEFAULT_CONFIG_FILE, loadConfig } from '../config/index.js';
import { ExitCode, RefusedError } from '../errors.js';
import { createHelloIdWriter } from '../sync/clients.js';

export class Apply extends BaseCommand {
  static override summary = 'Execute an approved plan against HelloID.';
  static override description =
    'Refuses (exit 3, nothing changed) a plan that was modified, is unsigned when signatures are required, carries no approval that counts for its digest, has expired or lives longer than plan.expiresAfter, targets another HelloID/tenant/config, breaks the limits without a recorded override, names groups or users that HelloID now calls otherwise, or whose groups changed in HelloID since it was planned (or since an earlier run of it). Then makes the changes with bounded concurrency and retries, journaling every outcome beside the plan so a re-run resumes, and writes a receipt. Exit 4 when some writes failed for good (every other change is made). With --dry-run: every check, no write; exit 0 when apply would go ahead, 3 when it would refuse.';
  static override examples = ['<%= config.bin %> apply plan.yaml', '<%= config.bin %> apply plan.yaml --dry-run', '<%= config.bin %> apply plan.yaml --json', '<%= config.bin %> apply plan.yaml --allowed-signers .ownersync/allowed_signers'];
  static override enableJsonFlag = true;
  static override args = { plan: Args.string({ description: 'The approved plan file.', required: true }) };
  static override flags = {
    config: Flags.string({ char: 'c', description: 'Configuration file (must be the one the plan was made with).', default: DEFAULT_CONFIG_FILE }),
    'auto-approve': Flags.boolean({ description: 'Apply without a recorded approval or prompt: for scripted local use, or inside a protected CI environment whose required reviewers are the approval.' }),
    'allowed-signers': Flags.string({ description: 'Only count SSH-signed approvals that verify against this allowed-signers file (overrides apply.allowedSigners).' }),
    'dry-run': Flags.boolean({ description: 'Make every check apply makes (the HelloID reads included) and write nothing: exit 0 when apply would go ahead, 3 when it would refuse.' }),
    quiet: Flags.boolean({ char: 'q', description: 'No progress on stderr.' }),
  };

  private planArg: string | undefined;
  private dryRun = false;

  /** A refusal with --json is an apply-output document (status 'refused'); with --dry-run it says so. */
  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof RefusedError && this.dryRun) err.message += '\n(--dry-run: this is the refusal apply would give; nothing was written.)';
    if (this.jsonEnabled() && err instanceof RefusedError) {
      this.logJson(refusedJson(err.message, err.exitCode, this.planArg ? recordedDigest(this.planArg) : '', this.dryRun));
      throw err;
    }
    return super.catch(err);
  }

  async run(): Promise<ApplyJsonOutput> {
    const { args, flags } = await this.parse(Apply);
    this.planArg = args.plan;
    this.dryRun = flags['dry-run'];
    const json = this.jsonEnabled();
    const c = makeChalk({ noColor: flags['no-color'] });
    const cfg = await loadConfig(flags.config);
    const signingKey = this.signingKey();
    const interactive = !json && !this.dryRun && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY) && !process.env.CI;
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
        dryRun: this.dryRun,
        confirm: interactive ? ({ plan }) => askToApply(plan, c) : undefined,
        onEvent: applyEventRenderer((line) => this.log(line), progress, { json, planPath: args.plan }),
      });
    } finally {
      progress.done();
      await writer.close();
    }
    if (!json) for (const line of renderApplyResult(result, args.plan, c)) this.log(line);
    if (result.exitCode === 4) process.exitCode = ExitCode.PARTIAL;
    return applyJson(result);
  }
}
