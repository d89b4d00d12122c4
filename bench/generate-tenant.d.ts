/** Types for bench/generate-tenant.js (plain ESM so benches run without a build). */
export interface GenerateTenantOptions {
  mailboxes?: number;
  users?: number;
  holdersPerMailbox?: number;
  groups?: number;
  nestingDepth?: number;
  /** Total HelloID groups: one owner group per mailbox (every 100th mailbox has none), the rest filler. */
  helloidGroups?: number;
  seed?: number;
  /** Fraction of desired owners already present in their HelloID group (default 0.8). */
  inSync?: number;
  /** Chance that an owner group has one stale member (default 0.1). */
  staleRate?: number;
  tenantId?: string;
  clientId?: string;
  secret?: string;
  helloidKey?: string;
  helloidSecret?: string;
  domain?: string;
}

export interface GeneratedSummary {
  mailboxes: number;
  users: number;
  helloidUsers: number;
  exchangeGroups: number;
  helloidGroups: number;
  approxAdds: number;
  staleMembers: number;
}

export declare const DEFAULTS: Readonly<Required<Omit<GenerateTenantOptions, 'helloidGroups'>> & { helloidGroups: number | undefined }>;

/** A tenant fixture object (see schemas/tenant-fixture.schema.json); `summary` is non-enumerable. */
export declare function generateTenant(options?: GenerateTenantOptions): import('../src/emulator/types.js').TenantFixture & { readonly summary: GeneratedSummary };
