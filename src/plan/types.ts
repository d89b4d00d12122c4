/**
 * The plan file model (spec §5). Everything except `digest`, `signature` and
 * `approvals` is the *body*, hashed over its canonical JSON form. Apply works on the
 * guids in `groups` and `changes`; names and reasons are display only.
 */
import type { Change, KeptMember, LimitViolation, Warning } from '../core/types.js';

export const PLAN_FORMAT_VERSION = 1;
export const SUPPORTED_PLAN_FORMAT_VERSIONS = [1] as const;

export interface PlanTarget {
  /** HelloID base URL, no trailing slash. */
  helloidBaseUrl: string;
  /** Entra tenant id. */
  exchangeTenantId: string;
  exchangeOrganization?: string;
}

export interface PlanGroup {
  groupGuid: string;
  groupName: string;
  mailbox: string;
  /** userGUIDs observed at plan time, sorted. */
  observedMembers: string[];
  /** userGUIDs after applying this plan, sorted. */
  plannedMembers: string[];
}

export interface PlanOverride {
  /** e.g. 'limits' */
  kind: 'limits';
  violations: LimitViolation[];
}

export interface PlanBody {
  formatVersion: number;
  tool: { name: 'ownersync'; version: string };
  createdAt: string;
  expiresAt: string;
  /** sha256:<hex> of the effective config with secrets excluded. */
  configDigest: string;
  target: PlanTarget;
  summary: { add: number; remove: number; kept: number };
  /** Affected groups only (those with at least one change), sorted by name. */
  groups: PlanGroup[];
  changes: Change[];
  kept: KeptMember[];
  warnings: Warning[];
  overrides: PlanOverride[];
  /** What Exchange changed since the previous desired-state file (unified diff), if known. */
  exchangeChanges?: string;
}

export interface Approval {
  by: string;
  at: string;
  /** The plan digest this approval is bound to. */
  digest: string;
  comment?: string;
  /** Optional SSH signature (armored `ssh-keygen -Y sign` output) over the digest. */
  sshSignature?: string;
}

export interface PlanFile extends PlanBody {
  digest: string;
  signature?: string;
  approvals: Approval[];
}
