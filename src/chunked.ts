/**
 * Text produced piece by piece (the plan and desired-state writers, the plan digest),
 * passed on in pieces of about 64 KB.
 */

/** Where text goes, in order. */
export type Sink = (text: string) => void;

/** Bytes (UTF-16 units) gathered before a piece is passed on by chunked(). */
const CHUNK = 1 << 16;

/**
 * A sink that gathers small pieces into pieces of about 64 KB for `flush` (a file
 * write, a hash update, a list of parts): millions of tiny strings are never held at
 * once, and the receiver is called a few hundred times, not millions. Call end()
 * after the last piece.
 */
export function chunked(flush: (text: string) => void, size = CHUNK): { sink: Sink; end(): void } {
  let pending: string[] = [];
  let length = 0;
  const pass = (): void => {
    if (pending.length === 0) return;
    flush(pending.join(''));
    pending = [];
    length = 0;
  };
  return {
    sink: (text) => {
      pending.push(text);
      length += text.length;
      if (length >= size) pass();
    },
    end: pass,
  };
}
