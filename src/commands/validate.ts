/**
 * `ownersync validate [-c FILE] [--online]`: load and check the configuration, print
 * a short summary of what it resolves to, and with --online also run the registered
 * credential/reachability checks. Problems are thrown as ConfigError; the CLI entry
 * prints each one and exits 1.
 */
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { redactedConfig, type RedactedConfig } from '../config/digest.js';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../config/load.js';
import { getOnlineCheck, runOnlineCheck, setOnlineCheck, type OnlineCheckResult } from '../config/online.js';
import { onlineCheck, onlineCheckWith } from '../sync/online.js';
import { RECORD_FLAGS } from '../cli/record-flags.js';
import { openRecorder } from '../transcript/recorder.js';
import type { EffectiveConfig } from '../config/types.js';
import { ownerGroupName } from '../core/naming.js';
import { plural } from '../cli/plural.js';
import { OwnersyncError, UsageError } from '../errors.js';
import { redact } from '../redact.js';

/** A mailbox name for the worked naming example in the summary. */
const EXAMPLE_MAILBOX = 'Sales';

/**
 * The lines printed after "OK: <file> is valid": what the configuration will do, so
 * an administrator sees the effective scope (every default filled in) before the
 * first plan, not just that the file parses.
 */
export function summaryLines(cfg: EffectiveConfig): string[] {
  const ex = cfg.exchange;
  const sync = cfg.sync;
  const tenant = `${ex.tenantId}${ex.organization ? ` (${ex.organization})` : ''}, ${ex.environment}`;
  const auth = ex.certificate ? `certificate ${ex.certificate.path}` : 'client secret';
  const l = sync.limits;
  const source = sync.groupSource === '' ? 'Local' : sync.groupSource;
  const protectedUsers = sync.protectedUsers.length;
  return [
    `  tenant:          ${tenant}`,
    `  Exchange:        ${ex.adminApiUrl} (sign-in ${ex.authorityHost})`,
    `  HelloID:         ${cfg.helloid.baseUrl}`,
    `  auth:            ${auth}`,
    'scope:',
    `  mailboxes:       ${ex.mailboxFilter ? `shared mailboxes matching exchange.mailboxFilter: ${ex.mailboxFilter}` : 'every shared mailbox (exchange.mailboxFilter is not set)'}`,
    `  holders:         FullAccess, direct${ex.expandGroups ? ' and through mail-enabled security groups (expandGroups)' : ' only; group grants are reported as unresolved (expandGroups: false)'}`,
    `  owner group:     ${JSON.stringify(sync.groupPrefix)} + mailbox DisplayName + ${JSON.stringify(sync.groupSuffix)}; e.g. mailbox "${EXAMPLE_MAILBOX}" → group "${ownerGroupName(EXAMPLE_MAILBOX, sync)}"`,
    `  group source:    HelloID groups of source ${source}`,
    `  removeMembers:   ${sync.removeMembers ? 'true: members without FullAccess are removed' : 'false: members without FullAccess are kept (listed as kept)'}`,
    `  protectedUsers:  ${protectedUsers === 0 ? 'none' : `${plural(protectedUsers, 'user')} never removed`}`,
    `  limits:          maxRemovals ${l.maxRemovals}, maxRemovalPercent ${l.maxRemovalPercent}, allowEmptyingGroups ${String(l.allowEmptyingGroups)}`,
    `  plans:           expire after ${cfg.plan.expiresAfter}; apply ${cfg.apply.requireSignature ? 'requires' : 'does not require'} a signature`,
  ];
}

function onlineLines(results: readonly OnlineCheckResult[]): string[] {
  return results.map((r) => redact(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.service}: ${r.detail}`));
}

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

  /** Returns the config without secrets, so a future --json cannot print one. */
  async run(): Promise<RedactedConfig> {
    const { flags } = await this.parse(Validate);
    const cfg = await loadConfig(flags.config);
    this.log(`OK: ${flags.config} is valid`);
    for (const line of summaryLines(cfg)) this.log(line);
    if (flags.record && !flags.online) throw new UsageError('--record needs --online (only the online checks talk to the services)');
    if (flags.online) {
      const recorder = flags.record ? openRecorder(flags.record, cfg, { command: 'validate --online', toolVersion: this.config.version, raw: flags['record-raw'] }, (l) => this.logToStderr(l)) : undefined;
      if (recorder) setOnlineCheck(onlineCheckWith({ onExchange: recorder.hook }));
      else if (!getOnlineCheck()) setOnlineCheck(onlineCheck);
      const results = await runOnlineCheck(cfg).finally(() => recorder?.close());
      this.log('online checks:');
      for (const line of onlineLines(results)) this.log(line);
      const failed = results.filter((r) => !r.ok).map((r) => r.service);
      if (failed.length > 0) throw new OwnersyncError(`online check failed: ${failed.join(', ')}`);
    }
    return redactedConfig(cfg);
  }
}
