/**
 * Block-style YAML for plain data (objects, arrays, strings, numbers, booleans, null),
 * written piece by piece to a sink, byte for byte what the `yaml` library prints for
 * the same value with { lineWidth: 0, indent: 2 } (block style, sequences indented
 * under their key, `[]`/`{}` for empty collections).
 *
 * Why not the library itself: it first builds a node tree of the whole document and
 * then one string of it. For a 20,000-mailbox plan that is hundreds of megabytes and
 * seconds of work at the very end of `plan`. Here only the text of one scalar exists
 * at a time. Each scalar is still rendered by the library (quoting rules stay its
 * own), memoised because the same names and GUIDs recur throughout a plan.
 *
 * Strings spanning lines (block scalars, whose indentation depends on where they sit)
 * are rare here (the exchangeChanges diff): their whole top-level entry is left to the
 * library (`writeTopLevel`).
 */
import YAML, { type ToStringOptions } from 'yaml';
import type { Sink } from './chunked.js';

export class BlockYamlWriter {
  private readonly memo = new Map<string, string>();
  private readonly keyMemo = new Map<string, string>();
  private readonly leafMemo = new Map<boolean | null, string>();

  /** @param options the library's toString options the output must match (lineWidth 0 assumed). */
  constructor(private readonly options: ToStringOptions = {}) {}

  /** Write `doc` (an object) as a top-level mapping, entry by entry. */
  writeDocument(doc: Record<string, unknown>, sink: Sink): void {
    for (const [key, value] of Object.entries(doc)) {
      if (value === undefined) continue;
      this.writeTopLevel(key, value, sink);
    }
  }

  /** One top-level `key: value` entry. */
  writeTopLevel(key: string, value: unknown, sink: Sink): void {
    if (containsMultiLine(value)) {
      // Block scalars: the library knows their indentation; one entry is small.
      sink(YAML.stringify({ [key]: value }, { ...this.options, aliasDuplicateObjects: false }));
      return;
    }
    this.entry(key, value, '', sink);
  }

  /** `key: value` at `indent` (a map entry), newline-terminated. */
  private entry(key: string, value: unknown, indent: string, sink: Sink): void {
    const head = `${indent}${this.key(key, indent === '')}:`;
    if (isNonEmptyObject(value)) {
      sink(`${head}\n`);
      this.mapBody(value, `${indent}  `, sink);
    } else if (isNonEmptyArray(value)) {
      sink(`${head}\n`);
      this.seqBody(value, `${indent}  `, sink);
    } else {
      sink(`${head} ${this.leaf(value)}\n`);
    }
  }

  private mapBody(obj: Record<string, unknown>, indent: string, sink: Sink): void {
    for (const [k, v] of Object.entries(obj)) if (v !== undefined) this.entry(k, v, indent, sink);
  }

  /** Items `- …` at `indent`; a collection item starts on the dash line, the rest two columns in. */
  private seqBody(items: readonly unknown[], indent: string, sink: Sink): void {
    for (const item of items) {
      if (isNonEmptyObject(item)) {
        let first = true;
        for (const [k, v] of Object.entries(item)) {
          if (v === undefined) continue;
          if (first) {
            // The first entry shares the dash's line: write it at the inner indent and swap the prefix.
            sink(`${indent}- `);
            this.entryAfterDash(k, v, `${indent}  `, sink);
            first = false;
          } else {
            this.entry(k, v, `${indent}  `, sink);
          }
        }
        if (first) sink(`${indent}- {}\n`);
      } else if (isNonEmptyArray(item)) {
        sink(`${indent}- `);
        this.seqAfterDash(item, `${indent}  `, sink);
      } else {
        sink(`${indent}- ${this.leaf(item)}\n`);
      }
    }
  }

  /** Like entry(), for the entry that follows `- ` (its own indentation is already written). */
  private entryAfterDash(key: string, value: unknown, indent: string, sink: Sink): void {
    let firstLine = true;
    this.entry(key, value, indent, (text) => {
      if (firstLine) {
        firstLine = false;
        sink(text.slice(indent.length));
      } else {
        sink(text);
      }
    });
  }

  /** A sequence as the item of a sequence (`- - a`). */
  private seqAfterDash(items: readonly unknown[], indent: string, sink: Sink): void {
    let firstLine = true;
    this.seqBody(items, indent, (text) => {
      if (firstLine) {
        firstLine = false;
        sink(text.slice(indent.length));
      } else {
        sink(text);
      }
    });
  }

  /** A scalar or an empty collection, as the library prints it. */
  private leaf(value: unknown): string {
    if (Array.isArray(value)) return '[]';
    if (typeof value === 'object' && value !== null) return '{}';
    if (typeof value === 'string') return this.scalar(value);
    // Booleans and null recur on every holder (`direct: true`): memoised. Numbers are
    // few, and a Map would not tell 0 from -0.
    const memoised = typeof value === 'boolean' || value === null;
    let out = memoised ? this.leafMemo.get(value) : undefined;
    if (out === undefined) {
      out = YAML.stringify({ v: value }, this.options).slice('v: '.length).trimEnd();
      if (memoised) this.leafMemo.set(value, out);
    }
    return out;
  }

  /** The library's rendering of a one-line string as a value, memoised; plain-safe names and GUIDs as they are. */
  private scalar(s: string): string {
    // Most scalars of a plan are GUIDs, addresses and names: asking the library about
    // each (about 8 µs) was most of the writing time. These the library prints plain.
    if (isPlainSafe(s)) return s;
    let out = this.memo.get(s);
    if (out === undefined) {
      // Rendered as a map value, not as a whole document: alone, '---' would be a block scalar.
      out = YAML.stringify({ v: s }, this.options).slice('v: '.length).trimEnd();
      this.memo.set(s, out);
    }
    return out;
  }

  /** The library's rendering of a mapping key, memoised (at the top level '---' would be a document marker). */
  private key(s: string, topLevel: boolean): string {
    if (isPlainSafe(s)) return s;
    const memoKey = `${topLevel ? 't' : 'n'}${s}`;
    let out = this.keyMemo.get(memoKey);
    if (out === undefined) {
      const text = topLevel ? YAML.stringify({ [s]: null }, this.options) : YAML.stringify({ v: { [s]: null } }, this.options).slice('v:\n'.length);
      out = text.trim().replace(/: null$/, '');
      this.keyMemo.set(memoKey, out);
    }
    return out;
  }
}

/**
 * Strings the yaml library prints plain (unquoted) in block context: a letter, then
 * letters, digits, space, . _ @ ( ) / + , - (no ': ', ' #' or other indicator can
 * occur), not ending in a space, and not one of the core schema's words for true,
 * false and null; or a GUID (digits and dashes, but never a number). Anything else
 * is left to the library. test/yaml-block.test.ts checks this against the library.
 */
const PLAIN_NAME = /^[A-Za-z](?:[\w .@()/+,-]*[\w.@()/+,-])?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CORE_WORDS = /^(?:true|false|null)$/i;

export function isPlainSafe(s: string): boolean {
  return GUID.test(s) || (PLAIN_NAME.test(s) && !CORE_WORDS.test(s));
}

function isNonEmptyObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).some((x) => x !== undefined);
}

function isNonEmptyArray(v: unknown): v is unknown[] {
  return Array.isArray(v) && v.length > 0;
}

function containsMultiLine(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\n');
  if (Array.isArray(v)) return v.some(containsMultiLine);
  if (typeof v === 'object' && v !== null) return Object.values(v).some(containsMultiLine);
  return false;
}
