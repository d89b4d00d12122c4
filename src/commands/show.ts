/**
 * `ownersync show PLAN [--json | --markdown]`: render any plan file. Read-only; says
 * whether the plan is intact, signed, approved (and what each approval is worth:
 * SSH-signed and verified, SSH-signed but not verified, or a plain name) and still
 * fresh, so a reviewer can check an artifact before approving or applying it.
 *
 * Exit code, one rule: 3 whenever the plan was modified after planning (apply would
 * refuse it as such), whether the edit still parses (then it is rendered first,
 * marked MODIFIED) or not; 1 for a file that is not a plan; 0 otherwise. Expiry and
 * missing approvals are shown, not exit codes: they are normal states of a plan.
 */
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { makeChalk } from '../cli/color.js';
import { renderPlanMarkdown } from '../cli/render/markdown.js';
import { planToJson, type PlanJsonOutput } from '../cli/render/json.js';
import { renderPlanText } from '../cli/render/text.js';
import { loadConfig } from '../config/index.js';
import { ExitCode } from '../errors.js';
import { approvalStatuses, describeApproval, readPlanRefusingTampered, verifyIntegrity } from '../plan/index.js';

export class Show extends BaseCommand {
  static override summary = 'Render a plan file.';
  static override description =
    'Prints a plan as text (like `terraform show`), as Markdown for a pull request, or as JSON. Also states whether the plan is intact, approved and still fresh, and of each approval whether it is SSH-signed and verified against the allowed-signers file (--allowed-signers, or apply.allowedSigners of --config), SSH-signed but not verified, or a plain name.\n\nExit codes: 0 the plan is intact (whether approved, expired or not); 3 the plan was modified after planning, so apply would refuse it (it is still rendered when it can be read); 1 the file is not a plan.';
  static override examples = ['<%= config.bin %> show plan.yaml', '<%= config.bin %> show plan.yaml --markdown >> "$GITHUB_STEP_SUMMARY"', '<%= config.bin %> show plan.yaml --json', '<%= config.bin %> show plan.yaml --allowed-signers .ownersync/allowed_signers'];
  static override enableJsonFlag = true;
  static override args = { plan: Args.string({ description: 'Plan file to render.', required: true }) };
  static override flags = {
    markdown: Flags.boolean({ description: 'Render as Markdown (for pull-request comments and job summaries).', exclusive: ['json'] }),
    'verbose-kept': Flags.boolean({ description: 'List every kept member instead of a count per group.' }),
    'allowed-signers': Flags.string({ description: 'Verify SSH-signed approvals against this allowed-signers file.' }),
    config: Flags.string({ char: 'c', description: 'Configuration file whose apply.allowedSigners verifies SSH-signed approvals (not read unless given).' }),
  };

  async run(): Promise<PlanJsonOutput> {
    const { args, flags } = await this.parse(Show);
    // A hand-edited plan that no longer even reads cleanly is reported as modified (exit 3).
    const plan = readPlanRefusingTampered(args.plan, `${args.plan} cannot be shown as a valid plan`);
    const integrity = verifyIntegrity(plan);
    const allowedSigners = flags['allowed-signers'] ?? (flags.config ? (await loadConfig(flags.config)).apply.allowedSigners : undefined);
    const approvals = approvalStatuses(plan, allowedSigners);
    const approvalStatus = approvals.map((s) => ({ by: s.approval.by, at: s.approval.at, kind: s.kind, ...(s.reason ? { reason: s.reason } : {}) }));
    const json = planToJson(plan, { intact: integrity.ok, planPath: args.plan, approvalStatus });
    if (!integrity.ok) this.reportModified(args.plan);
    if (this.jsonEnabled()) return json;
    if (flags.markdown) {
      process.stdout.write(renderPlanMarkdown(plan, { intact: integrity.ok, approvals }));
      return json;
    }
    const c = makeChalk({ noColor: flags['no-color'] });
    process.stdout.write(renderPlanText(plan, { chalk: c, verboseKept: flags['verbose-kept'] }));
    const expired = Date.now() >= Date.parse(plan.expiresAt);
    const status = [
      integrity.ok ? c.green('intact') : c.red('MODIFIED after planning (digest mismatch): apply will refuse it'),
      plan.signature ? 'signed' : 'unsigned',
      approvals.length > 0 ? `approved by ${approvals.map(describeApproval).join(', ')}` : 'not approved',
      expired ? c.red(`expired at ${plan.expiresAt}`) : `expires ${plan.expiresAt}`,
    ];
    process.stdout.write(c.dim(`${args.plan}: ${plan.digest} · ${status.join(' · ')}\n`));
    return json;
  }

  /** The rendering still goes to stdout; the verdict goes to stderr and the exit code. */
  private reportModified(file: string): void {
    process.exitCode = ExitCode.REFUSED;
    process.stderr.write(`${file} has been modified after it was planned (its content no longer matches its digest): apply will refuse it.\n`);
  }
}
