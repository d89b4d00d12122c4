/**
 * `ownersync plan`: read Exchange Online and HelloID, write desired-state.yaml and
 * plan.yaml, and show the changes the way `terraform plan` does. Nothing in HelloID
 * changes here.
 */
import { Flags } from '@oclif/core';
import { appendFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BaseCommand } from '../cli/base-command.js';
import { makeChalk } from '../cli/color.js';
import { makeProgress } from '../cli/progress.js';
import { planToJson, type PlanJsonOutput } from '../cli/render/json.js';
import { renderPlanMarkdown } from '../cli/render/markdown.js';
import { renderPlanText } from '../cli/render/text.js';
import { configDigest, DEFAULT_CONFIG_FILE, loadConfig } from '../config/index.js';
import type { EffectiveConfig } from '../config/types.js';
import { ExitCode, OwnersyncError, RefusedError } from '../errors.js';
import { buildPlan, limitsRefusalMessage, signPlan, SIGNING_KEY_ENV, writePlan, type PlanFile } from '../plan/index.js';
import { registerSecret } from '../redact.js';
import { exchangeChangesSince, readPreviousDesiredState, renderDesiredState, writeDesiredState } from '../state/desired-state-file.js';
import { startDemo } from '../sync/demo.js';
import { createSources } from '../sync/clients.js';
import { readAndDiff, syncOptionsFrom, type ReadResult } from '../sync/read.js';
import { RECORD_FLAGS } from '../cli/record-flags.js';
import { openRecorder } from '../transcript/recorder.js';
import { plural } from '../cli/plural.js';

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
    const { flags } = await this.parse(Plan);
    const json = this.jsonEnabled();
    const progress = makeProgress({ enabled: !json && !flags.quiet });
    const demo = flags.demo ? await startDemo() : undefined;
    try {
      const cfg: EffectiveConfig = demo ? demo.config : await loadConfig(flags.config);
      const recorder = flags.record ? openRecorder(flags.record, cfg, { command: 'plan', toolVersion: this.config.version, raw: flags['record-raw'] }, (l) => this.logToStderr(l)) : undefined;
      const sources = createSources(cfg, { extraCaPem: demo?.caPem, ...(recorder ? { httpOptions: { onExchange: recorder.hook } } : {}) });
      let result: Pick<ReadResult, 'desired' | 'diff' | 'counts'> | undefined;
      try {
        // Only what the outputs need is kept: the snapshots of the read (every user,
        // group and permission row) are garbage before the outputs are built, which is
        // when `plan` needs the most memory.
        const { desired, diff, counts } = await readAndDiff(sources.exchange, sources.helloid, syncOptionsFrom(cfg), (phase, detail) => progress.update(phase, detail));
        result = { desired, diff, counts };
      } finally {
        progress.done();
        await sources.close();
        if (!result) recorder?.close();
      }

      const stateText = renderDesiredState(result.desired, {
        exchangeTenantId: cfg.exchange.tenantId,
        mailboxFilter: cfg.exchange.mailboxFilter,
        expandGroups: cfg.exchange.expandGroups,
        groupPrefix: cfg.sync.groupPrefix,
        groupSuffix: cfg.sync.groupSuffix,
      });
      const exchangeChanges = exchangeChangesSince(readPreviousDesiredState(flags.state), stateText);
      const limitsExceeded = result.diff.limitViolations.length > 0;
      let plan: PlanFile = buildPlan({
        diff: result.diff,
        config: cfg,
        configDigest: configDigest(cfg),
        toolVersion: this.config.version,
        now: new Date(),
        // Limits are enforced below, after the plan is shown, so the operator sees what broke them.
        overrideLimits: true,
        exchangeChanges,
      });
      recorder?.finish(plan);
      const { counts } = result;
      const limitViolations = result.diff.limitViolations;
      // The desired state and the diff now live on in stateText and the plan: let them
      // go before the outputs are written, the memory peak of a large plan.
      result = undefined;
      if (limitsExceeded && !flags['override-limits']) {
        if (!json) process.stdout.write(renderPlanText({ ...plan, overrides: [] }, { chalk: makeChalk({ noColor: flags['no-color'] }) }));
        const message = `${limitsRefusalMessage(limitViolations)}\nNothing was written.`;
        // The CI job summary should say why the job failed, not just that it did.
        if (process.env.GITHUB_STEP_SUMMARY) {
          appendFileSync(process.env.GITHUB_STEP_SUMMARY, `## ownersync plan refused by the safety limits\n\n${plan.summary.add} to add, ${plan.summary.remove} to remove.\n\n\`\`\`\n${message}\n\`\`\`\n`);
        }
        throw new RefusedError(message);
      }
      if (!limitsExceeded) plan = { ...plan, overrides: [] };

      const signingKey = process.env[SIGNING_KEY_ENV] || undefined;
      if (signingKey) {
        registerSecret(signingKey);
        plan = signPlan(plan, signingKey);
      }
      // Make every output's directory first, so that a missing one cannot fail the run
      // after plan.yaml is already written (a plan without its desired state).
      const outputs = [flags.out, flags.state, ...(flags.markdown ? [flags.markdown] : [])];
      for (const file of outputs) await writeStep(file, async () => {
        await mkdir(dirname(file), { recursive: true });
      });
      writePlan(flags.out, plan);
      await writeStep(flags.state, () => writeDesiredState(flags.state, stateText));

      // Built (and digested) just above: intact by construction.
      const out = planToJson(plan, { intact: true, planPath: flags.out, statePath: flags.state, limitsExceeded });
      const markdown = renderPlanMarkdown(plan, { intact: true });
      if (flags.markdown) await writeStep(flags.markdown, () => writeFile(flags.markdown!, markdown, 'utf8'));
      if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${markdown}\n`);

      if (!json) {
        const c = makeChalk({ noColor: flags['no-color'] });
        process.stdout.write(renderPlanText(plan, { chalk: c }));
        this.log(c.dim(`\nRead ${plural(counts.mailboxes, 'shared mailbox', 'shared mailboxes')}, ${plural(counts.helloidGroups, 'HelloID group')} (${plural(counts.ownerGroupsRead, "owner group's", "owner groups'")} members).`));
        this.log(c.dim(`Wrote ${flags.out} (${plan.digest}) and ${flags.state}.`));
        if (plan.changes.length > 0) this.log(`To apply: review it, then \`ownersync approve ${flags.out} --by <name>\` and \`ownersync apply ${flags.out}\`.`);
      }
      if (flags['detailed-exitcode'] && plan.changes.length > 0) process.exitCode = ExitCode.CHANGES;
      return out;
    } finally {
      await demo?.stop();
    }
  }
}

/** A file system failure as an error that names the file (not a bare ENOENT). */
async function writeStep(file: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    throw new OwnersyncError(`${file}: cannot be written: ${err instanceof Error ? err.message : String(err)}`, ExitCode.ERROR, { cause: err });
  }
}
