/**
 * The ownersync.yaml that points at an emulator: its tenant, app and endpoints, the
 * secrets as ${VAR} references (the environment the e2e harness sets), and the sync
 * settings a test asks for. Shared by the e2e harness and the in-process transcript
 * tests, so there is one picture of "a config for this emulator".
 */
import type { Emulator } from '../../src/emulator/index.js';

export interface SyncSettings {
  removeMembers?: boolean;
  expandGroups?: boolean;
  groupPrefix?: string;
  groupSuffix?: string;
  protectedUsers?: string[];
  mailboxFilter?: string;
  limits?: { maxRemovals?: number; maxRemovalPercent?: number; allowEmptyingGroups?: boolean };
  requireSignature?: boolean;
  concurrency?: number;
  expiresAfter?: string;
  extraYaml?: string;
}

export function configYaml(em: Emulator, s: SyncSettings = {}): string {
  const c = em.clientSettings();
  const lines = [
    'exchange:',
    `  tenantId: ${c.tenantId}`,
    `  organization: ${c.organization}`,
    `  clientId: ${c.clientId}`,
    '  clientSecret: ${OWNERSYNC_CLIENT_SECRET}',
    `  authorityHost: ${em.url}`,
    `  adminApiUrl: ${em.url}`,
    ...(s.mailboxFilter ? [`  mailboxFilter: "${s.mailboxFilter.replace(/"/g, '\\"')}"`] : []),
    ...(s.expandGroups !== undefined ? [`  expandGroups: ${s.expandGroups}`] : []),
    'helloid:',
    `  baseUrl: ${em.url}`,
    '  apiKey: ${HELLOID_API_KEY}',
    '  apiSecret: ${HELLOID_API_SECRET}',
    'sync:',
    `  removeMembers: ${s.removeMembers ?? true}`,
    `  protectedUsers: [${(s.protectedUsers ?? []).map((u) => JSON.stringify(u)).join(', ')}]`,
    ...(s.groupPrefix !== undefined ? [`  groupPrefix: ${JSON.stringify(s.groupPrefix)}`] : []),
    ...(s.groupSuffix !== undefined ? [`  groupSuffix: ${JSON.stringify(s.groupSuffix)}`] : []),
    '  limits:',
    `    maxRemovals: ${s.limits?.maxRemovals ?? 100}`,
    `    maxRemovalPercent: ${s.limits?.maxRemovalPercent ?? 25}`,
    `    allowEmptyingGroups: ${s.limits?.allowEmptyingGroups ?? false}`,
    'plan:',
    `  expiresAfter: ${s.expiresAfter ?? '72h'}`,
    'apply:',
    `  concurrency: ${s.concurrency ?? 4}`,
    `  requireSignature: ${s.requireSignature ?? false}`,
  ];
  return lines.join('\n') + '\n' + (s.extraYaml ?? '');
}

