/**
 * `ownersync validate [-c FILE] [--online]`: load and check the configuration, print
 * what it resolves to, and with --online also run the credential/reachability checks
 * (src/sync/online.ts). Problems are thrown as ConfigError; the CLI entry prints each
 * one and exits 1.
 */
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { RECORD_FLAGS } from '../cli/record-flags.js';
import { renderOnline, renderValid } from '../cli/render/validate.js';
import { DEFAULT_CONFIG_FILE, loadConfig, redactedConfig, type RedactedConfig } from '../config/index.js';
import { OwnersyncError, UsageError } from '../errors.js';
import { checkOnline, type OnlineCheck } from '../sync/online.js';

export class Validate extends BaseCommand {
  static override summary = 'Check the configuration file.';
  static override description =
    'Reads the configuration, replaces ${NAME} references from the environment, validates it against the schema and reports every problem at once. With --online, also signs in and checks that Exchange Online and HelloID are reachable.';
  static override examples = ['<%= config.bin %> validate', '<%= config.bin %> validate -c config/prod.yaml --online'];

  static override flags = {
    config: Flags.string({ char: 'c', description: 'Configuration file.', default: DEFAULT_CONFIG_FILE }),
    online: Flags.boolean({ description: 'Also check credentials and reachability of Entra ID, Exchange Online and HelloID.' }),
    ...RECORD_FLAGS,
  };

  /** The online checks; replaceable in tests. */
  static checkOnline: OnlineCheck = checkOnline;

  /** Returns the config without secrets, so a future --json cannot print one. */
  async run(): Promise<RedactedConfig> {
    const { flags } = await this.parse(Validate);
    const cfg = await loadConfig(flags.config);
    for (const line of renderValid(flags.config, cfg)) this.log(line);
    if (flags.record && !flags.online) throw new UsageError('--record needs --online (only the online checks talk to the services)');
    if (flags.online) {
      const record = flags.record ? { file: flags.record, raw: flags['record-raw'], toolVersion: this.config.version, warn: (l: string) => this.logToStderr(l) } : undefined;
      const results = await Validate.checkOnline(cfg, { record });
      for (const line of renderOnline(results)) this.log(line);
      const failed = results.filter((r) => !r.ok).map((r) => r.service);
      if (failed.length > 0) throw new OwnersyncError(`online check failed: ${failed.join(', ')}`);
    }
    return redactedConfig(cfg);
  }
}
