/** Shared fixtures for plan and apply tests: a config, a diff, a built plan, temp dirs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EffectiveConfig } from '../../src/config/types.js';
import type { Change, DiffResult, ManagedGroup } from '../../src/core/types.js';
import { buildPlan } from '../../src/plan/build.js';
import type { PlanFile } from '../../src/plan/types.js';

/** A deterministic GUID: kind letter (a = group, b = user …) + number. */
export function guid(kind: 'a' | 'b' | 'c' | 'd', n: number): string {
  return `${kind.repeat(8)}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}
export const G = (n: number): string => guid('a', n);
export const U = (n: number): string => guid('b', n);

export const TENANT = 'cccccccc-1111-4111-8111-111111111111';
export const CONFIG_DIGEST = `sha256:${'1'.repeat(64)}`;
export const NOW = new Date('2025-03-01T10:00:00.000Z');

export function makeConfig(patch: { baseUrl?: string; tenantId?: string; organization?: string; requireSignature?: boolean } = {}): EffectiveConfig {
  return {
    sourcePath: '/tmp/ownersync.yaml',
    exchange: {
      tenantId: patch.tenantId ?? TENANT,
      ...(patch.organization ? { organization: patch.organization } : {}),
      clientId: 'dddddddd-2222-4222-8222-222222222222',
      clientSecret: 'not-a-real-secret-xyz',
      environment: 'O365Default',
      authorityHost: 'https://login.microsoftonline.com',
      adminApiUrl: 'https://outlook.office365.com',
      expandGroups: true,
    },
    helloid: { baseUrl: patch.baseUrl ?? 'https://contoso.helloid.com', apiKey: 'key-xyz-123', apiSecret: 'secret-xyz-123' },
    sync: {
      groupSource: 'Local',
      groupPrefix: '',
      groupSuffix: ' Resource Owners',
      removeMembers: true,
      protectedUsers: [],
      limits: { maxRemovals: 100, maxRemovalPercent: 25, allowEmptyingGroups: false },
    },
    plan: { expiresAfter: '72h', expiresAfterMs: 72 * 3_600_000 },
    apply: { concurrency: 4, requireSignature: patch.requireSignature ?? false },
  };
}

function change(action: 'add' | 'remove', g: number, groupName: string, u: number, mailbox: string): Change {
  return {
    action,
    groupGuid: G(g),
    groupName,
    userGuid: U(u),
    userName: `user${u}@contoso.com`,
    mailbox,
    reason: action === 'add' ? `holds FullAccess on ${mailbox} (direct)` : `no longer holds FullAccess on ${mailbox}`,
  };
}

/**
 * Three managed groups: Finance (add u3, remove u2), HR (add u4, add u5), Sales (unchanged).
 * Optionally more groups/changes for scale tests.
 */
export function makeDiff(options: { extraGroups?: number; usersPerExtraGroup?: number } = {}): DiffResult {
  const groups: ManagedGroup[] = [
    {
      groupGuid: G(1),
      groupName: 'Finance Resource Owners',
      mailbox: 'finance@contoso.com',
      observedMembers: [U(1), U(2)],
      plannedMembers: [U(1), U(3)],
      holdReasons: [],
    },
    {
      groupGuid: G(2),
      groupName: 'HR Resource Owners',
      mailbox: 'hr@contoso.com',
      observedMembers: [U(1)],
      plannedMembers: [U(1), U(4), U(5)],
      holdReasons: [],
    },
    {
      groupGuid: G(3),
      groupName: 'Sales Resource Owners',
      mailbox: 'sales@contoso.com',
      observedMembers: [U(6)],
      plannedMembers: [U(6)],
      holdReasons: [],
    },
  ];
  const changes: Change[] = [
    change('remove', 1, 'Finance Resource Owners', 2, 'finance@contoso.com'),
    change('add', 1, 'Finance Resource Owners', 3, 'finance@contoso.com'),
    change('add', 2, 'HR Resource Owners', 4, 'hr@contoso.com'),
    change('add', 2, 'HR Resource Owners', 5, 'hr@contoso.com'),
  ];
  const extra = options.extraGroups ?? 0;
  const per = options.usersPerExtraGroup ?? 3;
  for (let i = 0; i < extra; i++) {
    const g = 100 + i;
    const name = `Extra ${String(i).padStart(4, '0')} Resource Owners`;
    const mailbox = `extra${i}@contoso.com`;
    const users = Array.from({ length: per }, (_, k) => 1000 + i * per + k);
    groups.push({
      groupGuid: G(g),
      groupName: name,
      mailbox,
      observedMembers: [],
      plannedMembers: users.map(U).sort(),
      holdReasons: [],
    });
    for (const u of users) changes.push(change('add', g, name, u, mailbox));
  }
  return {
    groups,
    changes,
    kept: [
      {
        groupGuid: G(3),
        groupName: 'Sales Resource Owners',
        userGuid: U(6),
        userName: 'user6@contoso.com',
        mailbox: 'sales@contoso.com',
        reason: 'holds FullAccess on sales@contoso.com (direct)',
      },
    ],
    warnings: [{ code: 'no-helloid-user', mailbox: 'hr@contoso.com', subject: 'ghost@contoso.com', message: 'ghost@contoso.com has no HelloID user' }],
    limitViolations: [],
  };
}

export function makePlan(options: { now?: Date; extraGroups?: number; usersPerExtraGroup?: number; exchangeChanges?: string } = {}): PlanFile {
  return buildPlan({
    diff: makeDiff(options),
    config: makeConfig(),
    configDigest: CONFIG_DIGEST,
    toolVersion: '0.1.0',
    now: options.now ?? NOW,
    overrideLimits: false,
    ...(options.exchangeChanges !== undefined ? { exchangeChanges: options.exchangeChanges } : {}),
  });
}

/** A fresh temp dir; call the returned cleanup in afterEach. */
export function tempDir(prefix = 'ownersync-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
