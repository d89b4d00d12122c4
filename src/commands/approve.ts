/**
 * `ownersync approve PLAN --by NAME [--comment TEXT]`: record an approval bound to the
 * plan's digest, after checking the plan is intact (and signed, when a key is set).
 */
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { approve } from '../plan/index.js';

export class Approve extends BaseCommand {
  static override summary = "Approve a plan: record who approved this exact plan's digest.";
  static override description =
    'Verifies that the plan has not been modified since it was planned (and its signature, when OWNERSYNC_SIGNING_KEY is set), then appends { by, at, digest, comment } to its approvals. Any later change to the plan body invalidates the approval. With --ssh-key the approval is signed with `ssh-keygen -Y sign`, so apply can check it against an allowed-signers file.';
  static override examples = ['<%= config.bin %> approve plan.yaml --by "Jane Doe" --comment "checked with the mailbox owners"', '<%= config.bin %> approve plan.yaml --by jane@contoso.com --ssh-key ~/.ssh/id_ed25519'];
  static override enableJsonFlag = true;
  static override args = { plan: Args.string({ description: 'Plan file to approve.', required: true }) };
  static override flags = {
    by: Flags.string({ description: 'Who approves (a name, or the principal in the allowed-signers file with --ssh-key).', required: true }),
    comment: Flags.string({ description: 'Why, or what was checked.' }),
    'ssh-key': Flags.string({ description: 'Sign the approval with this SSH private key (ssh-keygen -Y sign).' }),
  };

  async run(): Promise<{ plan: string; digest: string; approvals: number; by: string }> {
    const { args, flags } = await this.parse(Approve);
    const signingKey = this.signingKey();
    const plan = approve(args.plan, {
      by: flags.by,
      comment: flags.comment,
      at: new Date(),
      signingKey,
      sshSign: flags['ssh-key'] ? { keyPath: flags['ssh-key'] } : undefined,
    });
    if (!this.jsonEnabled()) {
      this.log(`Approved ${args.plan} (${plan.digest}) by ${flags.by}${flags['ssh-key'] ? ' (SSH-signed)' : ''}.`);
      this.log(`Summary: ${plan.summary.add} to add, ${plan.summary.remove} to remove. Commit the file, then run \`ownersync apply ${args.plan}\`.`);
    }
    return { plan: args.plan, digest: plan.digest, approvals: plan.approvals.length, by: flags.by };
  }
}
