/**
 * What `validate` prints: after "OK: <file> is valid", what the configuration will do,
 * so an administrator sees the effective scope (every default filled in) before the
 * first plan, not just that the file parses; and a line per online check.
 */
import type { EffectiveConfig, OnlineCheckResult } from '../../config/index.js';
import { ownerGroupName } from '../../core/index.js';
import { redact } from '../../redact.js';
import { plural } from '../../plural.js';

/** A mailbox name for the worked naming example in the summary. */
const EXAMPLE_MAILBOX = 'Sales';

/** The OK line and the summary of what the configuration resolves to. */
export function renderValid(file: string, cfg: EffectiveConfig): string[] {
  const ex = cfg.exchange;
  const sync = cfg.sync;
  const tenant = `${ex.tenantId}${ex.organization ? ` (${ex.organization})` : ''}, ${ex.environment}`;
  const auth = ex.certificate ? `certificate ${ex.certificate.path}` : 'client secret';
  const l = sync.limits;
  const source = sync.groupSource === '' ? 'Local' : sync.groupSource;
  const protectedUsers = sync.protectedUsers.length;
  return [
    `OK: ${file} is valid`,
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

/** "online checks:" and a line per check, redacted (a service may quote a credential). */
export function renderOnline(results: readonly OnlineCheckResult[]): string[] {
  return ['online checks:', ...results.map((r) => redact(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.service}: ${r.detail}`))];
}
