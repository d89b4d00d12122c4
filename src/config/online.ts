/**
 * Hook for `ownersync validate --online`. The checks themselves (token, Exchange,
 * HelloID) belong to the client modules, which register them here; config must not
 * depend on them, so the dependency points the right way.
 */
import { OwnersyncError } from '../errors.js';
import type { EffectiveConfig } from './types.js';

export interface OnlineCheckResult {
  /** e.g. "Entra ID token", "Exchange Online", "HelloID". */
  service: string;
  ok: boolean;
  /** One line for the user; must not contain secrets. */
  detail: string;
}

export type OnlineCheck = (cfg: EffectiveConfig) => Promise<OnlineCheckResult[]>;

let registered: OnlineCheck | undefined;

/** Register (or, with undefined, remove) the online check used by `validate --online`. */
export function setOnlineCheck(fn: OnlineCheck | undefined): void {
  registered = fn;
}

/** The registered check, if any. */
export function getOnlineCheck(): OnlineCheck | undefined {
  return registered;
}

/** Run the registered check; throws when this build has none. */
export async function runOnlineCheck(cfg: EffectiveConfig): Promise<OnlineCheckResult[]> {
  if (!registered) throw new OwnersyncError('online checks are not available in this build');
  return registered(cfg);
}
