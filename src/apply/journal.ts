/**
 * The apply journal: `<plan>.journal.jsonl`, append-only, one JSON object per line.
 * Each line is written with a single write(2) on an O_APPEND descriptor and, by
 * default, fsync'd before the write it describes proceeds — so a process killed at
 * any point loses at most the outcomes of writes that were in flight, and those are
 * still marked by their `started` line.
 *
 * The fsyncs are shared (group commit): lines appended while one fsync runs are all
 * made durable by the next, which runs off the event loop. At 250 writes a second an
 * fsync per line (about a millisecond each, on the main thread) would stall the
 * responses of every other write in flight.
 *
 * The reader is forgiving on purpose: a torn last line (power loss) or a line from
 * another plan's digest is skipped, because the journal only ever lets a re-run skip
 * work, never do more than the plan says.
 */
import { closeSync, fsync, openSync, readFileSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { OwnersyncError } from '../errors.js';
import type { JournalEntry, JournalOutcome } from './types.js';

const OUTCOMES: ReadonlySet<string> = new Set<JournalOutcome>(['started', 'done', 'already', 'failed']);

function isEntry(v: unknown): v is JournalEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.digest === 'string' &&
    typeof e.groupGuid === 'string' &&
    typeof e.userGuid === 'string' &&
    (e.action === 'add' || e.action === 'remove') &&
    typeof e.outcome === 'string' &&
    OUTCOMES.has(e.outcome) &&
    typeof e.at === 'string'
  );
}

/** The journal lines of `digest`, in file order; [] when there is no journal yet. */
export function readJournal(path: string, digest: string): JournalEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new OwnersyncError(`${path}: cannot read the apply journal: ${(err as Error).message}`);
  }
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (isEntry(v) && v.digest === digest) out.push(v);
  }
  return out;
}

/** Key of a (group, user, action) triple, case-insensitive on the GUIDs. */
export function journalKey(groupGuid: string, userGuid: string, action: string): string {
  return `${groupGuid.toLowerCase()}/${userGuid.toLowerCase()}/${action}`;
}

/** The last settled outcome (done/already) per change key, with its time. */
export function settledChanges(entries: JournalEntry[]): Map<string, JournalEntry> {
  const out = new Map<string, JournalEntry>();
  for (const e of entries) {
    if (e.outcome === 'done' || e.outcome === 'already') out.set(journalKey(e.groupGuid, e.userGuid, e.action), e);
  }
  return out;
}

const fsyncAsync = promisify(fsync);

/** Appends journal lines durably. */
export class JournalWriter {
  readonly path: string;
  private fd: number | undefined;
  private readonly durable: boolean;
  /** The fsync running now, if any. */
  private running: Promise<void> | undefined;
  /** The next fsync, not started yet: it covers every line written before it starts. */
  private next: Promise<void> | undefined;

  /** @param durable fsync after every line (default true); off only for throwaway tests. */
  constructor(path: string, options: { durable?: boolean } = {}) {
    this.path = path;
    this.durable = options.durable ?? true;
    try {
      this.fd = openSync(path, 'a', 0o644);
    } catch (err) {
      throw new OwnersyncError(`${path}: cannot open the apply journal: ${(err as Error).message}`);
    }
  }

  /** Write a line; resolves once it is on disk (unless not durable). */
  async append(entry: JournalEntry): Promise<void> {
    if (this.fd === undefined) throw new OwnersyncError(`${this.path}: the apply journal is closed`);
    // One write call per line: O_APPEND keeps concurrent lines from interleaving.
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    if (this.durable) await this.sync(this.fd);
  }

  /** Group commit: join the fsync that has not started yet, or start one after the running one. */
  private sync(fd: number): Promise<void> {
    this.next ??= (async () => {
      // The running fsync may have begun before this line was written: wait, then sync again.
      await this.running?.catch(() => {});
      this.next = undefined;
      this.running = fsyncAsync(fd);
      return this.running;
    })();
    return this.next;
  }

  /** Close the file; call once every append has been awaited. */
  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
