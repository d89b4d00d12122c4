/**
 * Where apply keeps its files: the journal and the receipt beside the plan
 * (`<plan>.journal.jsonl`, `<plan>.receipt.json`, committed or uploaded with it), and
 * the lock in the OS temp directory, named after the target.
 *
 * The lock is keyed by the HelloID base URL, not by the plan file: what must not
 * happen twice at once is writing to one HelloID, and two plan files (two checkouts,
 * a re-plan beside the old plan) for the same HelloID are as much a race as one file
 * applied twice. The temp directory is shared by every checkout on the machine, is
 * writable without setup, and never ends up in a commit; the name is a hash of the
 * normalised URL, so it is a valid file name whatever the URL holds.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function journalPathFor(planPath: string): string {
  return `${planPath}.journal.jsonl`;
}

export function receiptPathFor(planPath: string): string {
  return `${planPath}.receipt.json`;
}

/** Trailing slashes and case do not make another HelloID. */
export function normaliseTarget(helloidBaseUrl: string): string {
  return helloidBaseUrl.trim().replace(/\/+$/, '').toLowerCase();
}

/** `<tmpdir>/ownersync-apply-<first 16 hex of sha256(normalised URL)>.lock`. */
export function lockPathForTarget(helloidBaseUrl: string, dir: string = tmpdir()): string {
  const hash = createHash('sha256').update(normaliseTarget(helloidBaseUrl), 'utf8').digest('hex').slice(0, 16);
  return join(dir, `ownersync-apply-${hash}.lock`);
}
