/**
 * Colour policy: chalk, off for NO_COLOR, --no-color and a non-TTY stream.
 * Returns a chalk instance rather than mutating the global one, so renderers stay pure.
 */
import { Chalk, type ChalkInstance } from 'chalk';

export function makeChalk(opts: { noColor?: boolean; stream?: NodeJS.WriteStream; env?: NodeJS.ProcessEnv }): ChalkInstance {
  const env = opts.env ?? process.env;
  const stream = opts.stream ?? process.stdout;
  const off = Boolean(opts.noColor) || 'NO_COLOR' in env || !stream.isTTY || env.TERM === 'dumb';
  return new Chalk({ level: off ? 0 : 1 });
}

/** A chalk that never colours: for files, golden tests and markdown. */
export const plainChalk: ChalkInstance = new Chalk({ level: 0 });
