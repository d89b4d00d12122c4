/**
 * The public API of core: the pure sync engine (desired state, owner-group naming,
 * diff, limits) and its types. Other modules import from here, not from the files.
 */
export type * from './types.js';
export { parseBool } from './bool.js';
export {
  buildOwnerGroupIndex,
  exactNameKey,
  fitsOwnerGroupPattern,
  foldDiacritics,
  foldedNameKey,
  isLocalSource,
  matchOwnerGroup,
  normaliseSource,
  ownerGroupName,
  sameSource,
} from './naming.js';
export type { OwnerGroupCandidate, OwnerGroupIndex, OwnerGroupMatch, OwnerGroupNaming, OwnerGroupScope } from './naming.js';
export { computeDesiredState, hasFullAccess, isEffectiveFullAccess, isGroupType, isSystemTrustee } from './desired.js';
export type { DesiredStateOptions } from './desired.js';
export { computeDiff } from './diff.js';
export { checkLimits } from './limits.js';
export type { RemovalLimits } from './limits.js';
export { sortWarnings } from './order.js';
