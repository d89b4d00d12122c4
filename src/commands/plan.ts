/**
 * `ownersync plan`: read Exchange Online and HelloID, write desired-state.yaml and
 * plan.yaml, and show the changes the way `terraform plan` does. Nothing in HelloID
 * changes here. The work is `makePlan` (src/sync/make-plan.ts); this renders it.
 */
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { makeChalk } from '../cli/color.js';
import { keepHeapNearLiveSize } from '../cli/heap.js';
import { plural } from '../plural.js';
import { makeProgress } from '../cli/progress.js';
import { RECORD_FLAGS } from '../cli/record-flags.js';
import { planToJson, type PlanJsonOutput } from '../cli/render/json.js';
import { renderPlanMarkdown } from '../cli/render/markdown.js';
import { renderPlanText } from '../cli/render/text.js';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../config/index.js';
import { ExitCode, RefusedError } from '../errors.js';
import { SIGNING_KEY_ENV } from '../plan/index.js';
import { startDemo } from '../sync/demo.js';
import { appendJobSummary, makePlan } from '../sync/make-plan.js';
import { openRecorder } from '../transcript/recorder.js';

export class Plan extends BaseCommand {
  static override summary = 'Compute the changes HelloID needs: write desired-state.yaml and plan.yaml.';
  static override description =
    'Reads the in-scope shared mailboxes, their FullAccess holders (group grants expanded) and the HelloID users, groups and owner-group members; writes the desired state (from Exchange alone) and a plan of the membership changes, and prints it. Changes nothing in HelloID.\n\nExit codes: 0 success, 1 error, 2 changes present (with --detailed-exitcode), 3 refused by the safety limits.';
  static override examples = [
    '<%= config.bin %> plan --demo',
    '<%= config.bin %> plan -c ownersync.yaml -o plan.yaml --state desired-state.yaml --detailed-exitcode',
    '<%= config.bin %> plan --markdown plan.md --json > plan.json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    config: Flags.string({ char: 'c', description: 'Configuration file.', default: DEFAULT_CONFIG_FILE }),
    out: Flags.string({ char: 'o', description: 'Where to write the plan.', default: 'plan.yaml' }),
    state: Flags.string({ description: 'Where to write the desired state; a previous file there is diffed against.', default: 'desired-state.yaml' }),
    'detailed-exitcode': Flags.boolean({ description: 'Exit 2 when the plan has changes (0 when none).' }),
    markdown: Flags.string({ description: 'Also write a Markdown summary to this file (for a pull-request comment).' }),
    'override-limits': Flags.boolean({ description: 'Let a plan that breaks sync.limits through; the override is recorded in the plan.' }),
    demo: Flags.boolean({ description: 'Run against the bundled demo tenant in an in-process emulator (no credentials needed).' }),
    quiet: Flags.boolean({ char: 'q', description: 'No progress on stderr.' }),
    ...RECORD_FLAGS,
  };

  async run(): Promise<PlanJsonOutput> {
    keepHeapNearLiveSize();
    const { flags } = await this.parse(Plan);
    const json = this.jsonEnabled();
    const c = makeChalk({ noColor: flags['no-color'] });
    const progress = makeProgress({ enabled: !json && !flags.quiet });
    const demo = flags.demo ? await startDemo() : undefined;
    try {
      const config = demo ? demo.config : await loadConfig(flags.config);
      const recorder = flags.record ? openRecorder(flags.record, config, { command: 'plan', toolVersion: this.config.version, raw: flags['record-raw'] }, (l) => this.logToStderr(l)) : undefined;
      let result: Awaited<ReturnType<typeof makePlan>>;
      try {
        result = await makePlan({
          config, planPath: flags.out, statePath: flags.state, markdownPath: flags.markdown, overrideLimits: flags['override-limits'],
          toolVersion: this.config.version, now: new Date(), signingKey: process.env[SIGNING_KEY_ENV] || undefined, extraCaPem: demo?.caPem,
          ...(recorder ? { httpOptions: { onExchange: recorder.hook }, onPlan: (p) => recorder.finish(p) } : {}),
          progress: (phase, detail) => progress.update(phase, detail),
          renderMarkdown: (p) => renderPlanMarkdown(p, { intact: true }),
        });
      } catch (err) {
        recorder?.close(); // a transcript of a failed run is still worth having
        throw err;
      } finally {
        progress.done();
      }
      const { plan } = result;
      if (result.status === 'refused') {
        if (!json) process.stdout.write(renderPlanText(plan, { chalk: c }));
        // The CI job summary should say why the job failed, not just that it did.
        appendJobSummary(`## ownersync plan refused by the safety limits\n\n${plan.summary.add} to add, ${plan.summary.remove} to remove.\n\n\`\`\`\n${result.message}\n\`\`\`\n`);
        throw new RefusedError(result.message);
      }
      appendJobSummary(`${result.markdown}\n`);
      if (!json) {
        const { counts } = result;
        process.stdout.write(renderPlanText(plan, { chalk: c }));
        this.log(c.dim(`\nRead ${plural(counts.mailboxes, 'shared mailbox', 'shared mailboxes')}, ${plural(counts.helloidGroups, 'HelloID group')} (${plural(counts.ownerGroupsRead, "owner group's", "owner groups'")} members).`));
        this.log(c.dim(`Wrote ${flags.out} (${plan.digest}) and ${flags.state}.`));
        if (plan.changes.length > 0) this.log(`To apply: review it, then \`ownersync approve ${flags.out} --by <name>\` and \`ownersync apply ${flags.out}\`.`);
      }
      if (flags['detailed-exitcode'] && plan.changes.length > 0) process.exitCode = ExitCode.CHANGES;
      return planToJson(plan, { intact: true, planPath: flags.out, statePath: flags.state, limitsExceeded: result.limitsExceeded });
    } finally {
      await demo?.stop();
    }
  }
}
