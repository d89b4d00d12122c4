/**
 * A private memo from computeDesiredState to computeDiff, so the diff need not look up
 * a million holder UPNs in a string-keyed Map (each lookup is a few cache misses; at
 * 1M memberships that is a noticeable share of the run).
 *
 * For each DesiredMailbox it produced, computeDesiredState records the Exchange user
 * index of every holder, by position, plus the UPN string of each index. computeDiff
 * translates an index to a HelloID user once per distinct user, and per holder only
 * checks that the holder still carries the recorded UPN (usually the very same string
 * object, so a pointer compare). If a caller rebuilt, reordered or edited the holders,
 * that check fails and the diff falls back to the plain lookup: the hint can make the
 * diff faster, never different. Not part of the public API.
 */
import type { DesiredMailbox } from './types.js';

export interface HolderIdHint {
  /** Exchange user index of `holders[i]`. */
  ids: Int32Array;
  /** UPN per Exchange user index; one array per computeDesiredState run. */
  upns: readonly string[];
}

export const holderIdHints = new WeakMap<DesiredMailbox, HolderIdHint>();
