/**
 * The transcript file: JSON Lines. The first line is a header (what made the file,
 * whether it is pseudonymised, the sync settings a replay needs, in pseudonyms), then
 * one line per HTTP attempt in the order the responses arrived, and, when the run got
 * that far, a last line with the run's outcome (its plan body, pseudonymised with the
 * same key), so a replay can be compared with the run it came from.
 */
import { readFileSync } from 'node:fs';
import { OwnersyncError } from '../errors.js';

export const TRANSCRIPT_FORMAT = 1;

/** The sync settings a replayed `plan` needs to decide as the recorded one did. */
export interface TranscriptConfig {
  tenantId: string;
  organization?: string;
  clientId: string;
  environment: string;
  mailboxFilter?: string;
  expandGroups: boolean;
  groupSource: string;
  groupPrefix: string;
  groupSuffix: string;
  removeMembers: boolean;
  protectedUsers: string[];
  limits: { maxRemovals: number; maxRemovalPercent: number; allowEmptyingGroups: boolean };
}

export interface TranscriptHeader {
  ownersyncTranscript: number;
  /** false only for --record-raw. */
  pseudonymised: boolean;
  /** Human-readable: what this file is and whether it may be shared. */
  notice: string;
  command: string;
  toolVersion: string;
  createdAt: string;
  config: TranscriptConfig;
}

export type TranscriptService = 'entra' | 'exchange' | 'helloid';

export interface TranscriptEntry {
  seq: number;
  /** ms since the recording started, when the attempt was sent. */
  t: number;
  /** Duration of the attempt (ms). */
  ms: number;
  service: TranscriptService;
  method: string;
  /** Path and query (no scheme or host). */
  path: string;
  attempt: number;
  /** Absent when no response came (then `error`). */
  status?: number;
  error?: string;
  /** InvokeCommand: the cmdlet; $batch: "$batch" and `cmdlets`. */
  cmdlet?: string;
  cmdlets?: string[];
  requestHeaders?: Record<string, string>;
  /** Exchange InvokeCommand/$batch and HelloID write bodies (parsed JSON). Never for the token endpoint. */
  request?: unknown;
  responseHeaders?: Record<string, string>;
  /** The response body, parsed when it is JSON … */
  response?: unknown;
  /** … else as text. */
  responseText?: string;
}

export interface TranscriptOutcome {
  outcome: {
    summary: { add: number; remove: number; kept: number };
    changes: Array<Record<string, unknown>>;
    kept: Array<Record<string, unknown>>;
    groups: Array<Record<string, unknown>>;
    warnings: Array<{ code: string; mailbox?: string; subject?: string; message: string }>;
  };
}

export interface Transcript {
  header: TranscriptHeader;
  entries: TranscriptEntry[];
  outcome?: TranscriptOutcome['outcome'];
}

/** Read and minimally check a transcript; errors name the file and line. */
export function readTranscript(file: string): Transcript {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OwnersyncError(`${file}: cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseTranscript(text, file);
}

export function parseTranscript(text: string, file = '<transcript>'): Transcript {
  const lines = text.split('\n');
  let header: TranscriptHeader | undefined;
  const entries: TranscriptEntry[] = [];
  let outcome: TranscriptOutcome['outcome'] | undefined;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw new OwnersyncError(`${file}:${i + 1}: not a JSON line`);
    }
    if (typeof obj !== 'object' || obj === null) throw new OwnersyncError(`${file}:${i + 1}: not a JSON object`);
    const o = obj as Record<string, unknown>;
    if (i === 0) {
      if (o.ownersyncTranscript !== TRANSCRIPT_FORMAT) throw new OwnersyncError(`${file}: not an ownersync transcript (format ${TRANSCRIPT_FORMAT} header missing on line 1)`);
      header = o as unknown as TranscriptHeader;
    } else if ('outcome' in o) outcome = (o as unknown as TranscriptOutcome).outcome;
    else entries.push(o as unknown as TranscriptEntry);
  });
  if (!header) throw new OwnersyncError(`${file}: empty transcript`);
  return { header, entries, ...(outcome ? { outcome } : {}) };
}
