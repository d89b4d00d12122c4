/**
 * Resource-owner group naming and matching (spec §3.5).
 *
 * The owner group of a mailbox is `groupPrefix + DisplayName + groupSuffix`, looked up
 * among the HelloID groups of the configured source. The name is matched
 * case-insensitively; only when nothing matches is a second pass made with diacritics
 * removed on both sides, which is what the original PowerShell task's normalisation did
 * ("Café Team" finds "Cafe Team Resource Owners"). An exact hit always beats a folded
 * one, and several hits on the deciding pass are reported as ambiguous rather than
 * guessed at.
 *
 * Matching runs for thousands of mailboxes against tens of thousands of groups, so the
 * groups are indexed once (`buildOwnerGroupIndex`) and every lookup is a Map hit.
 */
import { OwnersyncError } from '../errors.js';
import type { HelloIdGroup, SyncOptions } from './types.js';

/** The part of the sync options that decides an owner group's name. */
export interface OwnerGroupNaming {
  groupPrefix: string;
  groupSuffix: string;
}

/** The part of the sync options that decides which groups are candidates. */
export interface OwnerGroupScope {
  groupSource: string;
}

/** What matching needs of a group; a full `HelloIdGroup` qualifies. */
export type OwnerGroupCandidate = Pick<HelloIdGroup, 'groupGuid' | 'name' | 'source'>;

export type OwnerGroupMatch<G extends OwnerGroupCandidate = HelloIdGroup> =
  | { kind: 'match'; group: G }
  /** Candidates sorted by name (case-insensitive), then guid. */
  | { kind: 'ambiguous'; candidates: G[] }
  | { kind: 'none' };

/** `groupPrefix + displayName + groupSuffix`, verbatim (no trimming: the admin controls both ends). */
export function ownerGroupName(displayName: string, opts: OwnerGroupNaming): string {
  return `${opts.groupPrefix}${displayName}${opts.groupSuffix}`;
}

const COMBINING_MARKS = /\p{M}/gu;

/** Unicode NFD, then every combining mark dropped: "Café Ærø" → "Cafe Ærø" (Æ/ø are letters, not marks). */
export function foldDiacritics(s: string): string {
  return s.normalize('NFD').replace(COMBINING_MARKS, '');
}

/** The comparison key of a group source: null/empty/blank mean Local; case-insensitive. */
export function normaliseSource(source: string | null | undefined): string {
  const s = (source ?? '').trim();
  return s === '' ? 'local' : s.toLowerCase();
}

/** True when `source` denotes HelloID's built-in Local source (null, "", "Local", "local" …). */
export function isLocalSource(source: string | null | undefined): boolean {
  return normaliseSource(source) === 'local';
}

/** Whether two group sources are the same, with null/empty meaning Local. */
export function sameSource(a: string | null | undefined, b: string | null | undefined): boolean {
  return normaliseSource(a) === normaliseSource(b);
}

/** Key of the case-insensitive pass. NFC first so that precomposed and decomposed "é" are the same name. */
export function exactNameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** Key of the diacritics-insensitive fallback pass. */
export function foldedNameKey(name: string): string {
  return foldDiacritics(name).toLowerCase();
}

/**
 * Whether a HelloID group has the owner-group shape: the configured source, and a name
 * made of groupPrefix, something, groupSuffix, compared as the owner-group match compares
 * names (case-insensitively, else also without diacritics).
 */
export function fitsOwnerGroupPattern(name: string, source: string | null | undefined, opts: Pick<SyncOptions, 'groupPrefix' | 'groupSuffix' | 'groupSource'>): boolean {
  if (!sameSource(source, opts.groupSource)) return false;
  const fits = (key: (s: string) => string): boolean => {
    const n = key(name);
    const prefix = key(opts.groupPrefix);
    const suffix = key(opts.groupSuffix);
    return n.length > prefix.length + suffix.length && n.startsWith(prefix) && n.endsWith(suffix);
  };
  return fits(exactNameKey) || fits(foldedNameKey);
}

/** A prebuilt index of the candidate groups of one source. */
export interface OwnerGroupIndex<G extends OwnerGroupCandidate = HelloIdGroup> {
  /** The normalised source the index was built for. */
  readonly source: string;
  /** Number of distinct candidate groups (by guid) of that source. */
  readonly size: number;
  match(name: string): OwnerGroupMatch<G>;
}

function compareCandidates(a: OwnerGroupCandidate, b: OwnerGroupCandidate): number {
  const an = a.name.toLowerCase();
  const bn = b.name.toLowerCase();
  if (an !== bn) return an < bn ? -1 : 1;
  const ag = a.groupGuid.toLowerCase();
  const bg = b.groupGuid.toLowerCase();
  if (ag !== bg) return ag < bg ? -1 : 1;
  return 0;
}

function add<G>(map: Map<string, G[]>, key: string, g: G): void {
  const list = map.get(key);
  if (list) list.push(g);
  else map.set(key, [g]);
}

function resolve<G extends OwnerGroupCandidate>(list: G[] | undefined): OwnerGroupMatch<G> | undefined {
  if (!list || list.length === 0) return undefined;
  if (list.length === 1) return { kind: 'match', group: list[0] as G };
  return { kind: 'ambiguous', candidates: [...list].sort(compareCandidates) };
}

/**
 * Index the groups of `opts.groupSource` by exact and folded name key, in O(M).
 * A group listed twice (same guid, case-insensitive) counts once; which copy is kept is
 * decided by sort order, not input order, so the result is deterministic.
 */
export function buildOwnerGroupIndex<G extends OwnerGroupCandidate>(
  groups: readonly G[],
  opts: OwnerGroupScope,
): OwnerGroupIndex<G> {
  const source = normaliseSource(opts.groupSource);
  const byGuid = new Map<string, G>();
  for (const g of groups) {
    if (normaliseSource(g.source) !== source) continue;
    const guid = g.groupGuid.toLowerCase();
    const prev = byGuid.get(guid);
    if (!prev || compareCandidates(g, prev) < 0) byGuid.set(guid, g);
  }
  const exact = new Map<string, G[]>();
  const folded = new Map<string, G[]>();
  for (const g of byGuid.values()) {
    add(exact, exactNameKey(g.name), g);
    add(folded, foldedNameKey(g.name), g);
  }
  return {
    source,
    size: byGuid.size,
    match(name: string): OwnerGroupMatch<G> {
      return resolve(exact.get(exactNameKey(name))) ?? resolve(folded.get(foldedNameKey(name))) ?? { kind: 'none' };
    },
  };
}

function isIndex<G extends OwnerGroupCandidate>(x: readonly G[] | OwnerGroupIndex<G>): x is OwnerGroupIndex<G> {
  return !Array.isArray(x);
}

/**
 * Find the owner group called `name` among `groups` (or a prebuilt index). With a plain
 * array this builds a throwaway index, O(M) per call: use `buildOwnerGroupIndex` when
 * matching many names. When an index is given, `opts.groupSource` must be the one it was
 * built for.
 */
export function matchOwnerGroup<G extends OwnerGroupCandidate>(
  name: string,
  groups: readonly G[] | OwnerGroupIndex<G>,
  opts: OwnerGroupScope,
): OwnerGroupMatch<G> {
  const index = isIndex(groups) ? groups : buildOwnerGroupIndex(groups, opts);
  if (index.source !== normaliseSource(opts.groupSource)) {
    // A mismatch is a programming error; matching against the wrong source would be silent.
    throw new OwnersyncError(`owner-group index was built for source '${index.source}', asked for '${opts.groupSource}'`);
  }
  return index.match(name);
}
