/**
 * `ownersync transcript check FILE [-c CONFIG]`: is this transcript safe to attach to a
 * problem report? Exit 0 safe, 1 unsafe (each finding listed by line and place, never
 * with a secret's value). Prints what the transcript holds either way.
 */
import { Args, Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { BaseCommand } from '../../cli/base-command.js';
import { loadConfig } from '../../config/index.js';
import { OwnersyncError } from '../../errors.js';
import { SIGNING_KEY_ENV } from '../../plan/index.js';
import { checkTranscript, forbiddenFromConfig, renderCheck, type CheckResult, type Forbidden } from '../../transcript/check.js';

export class TranscriptCheck extends BaseCommand {
  static override summary = 'Check that a transcript (plan --record) is safe to share, and summarise it.';
  static override description =
    'Looks for credentials (JWT-shaped or long base64/hex values in headers, credential-named fields), addresses outside the pseudonym domain, GUIDs and SIDs that are not pseudonyms, Entra ID bodies, and — with -c — every secret and real identifier of that config (its ${NAME} references resolved from the environment), in plain, base64, URL-encoded and Basic-header form. Exit 0 when safe, 1 when not.';
  static override examples = ['<%= config.bin %> transcript check transcript.jsonl', '<%= config.bin %> transcript check transcript.jsonl -c ownersync.yaml'];
  static override enableJsonFlag = true;
  static override args = { file: Args.string({ description: 'Transcript file (JSON Lines).', required: true }) };
  static override flags = {
    config: Flags.string({ char: 'c', description: 'The config the transcript was recorded with: its secrets and real identifiers must not appear.' }),
  };

  async run(): Promise<CheckResult> {
    const { args, flags } = await this.parse(TranscriptCheck);
    let text: string;
    try {
      text = readFileSync(args.file, 'utf8');
    } catch (err) {
      throw new OwnersyncError(`${args.file}: cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
    let forbidden: Forbidden[] = [];
    if (flags.config) forbidden = forbiddenFromConfig(await loadConfig(flags.config), { [SIGNING_KEY_ENV]: process.env[SIGNING_KEY_ENV] });
    const result = checkTranscript(text, forbidden);
    if (!this.jsonEnabled()) process.stdout.write(renderCheck(args.file, result));
    if (!result.safe) process.exitCode = 1;
    return result;
  }
}

export default TranscriptCheck;
