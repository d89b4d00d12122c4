/**
 * Progress on stderr while reading or applying. A TTY gets one live line rewritten in
 * place; CI and pipes get a few plain lines (a phase change, or at most one line every
 * few seconds), so logs stay readable. --json and --quiet silence it.
 */

export interface Progress {
  update(phase: string, detail?: string): void;
  done(message?: string): void;
}

export function makeProgress(opts: { stream?: NodeJS.WriteStream; enabled?: boolean; intervalMs?: number } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.enabled === false) return { update() {}, done() {} };
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  const interval = opts.intervalMs ?? 5000;
  let lastPhase = '';
  let lastAt = 0;
  let liveLen = 0;
  return {
    update(phase, detail) {
      const text = detail ? `${phase}: ${detail}` : phase;
      if (tty) {
        const line = text.slice(0, (stream.columns ?? 100) - 1);
        stream.write(`\r${line}${' '.repeat(Math.max(0, liveLen - line.length))}`);
        liveLen = line.length;
        return;
      }
      const now = Date.now();
      if (phase !== lastPhase || now - lastAt >= interval) {
        stream.write(`${text}\n`);
        lastPhase = phase;
        lastAt = now;
      }
    },
    done(message) {
      if (tty && liveLen > 0) stream.write(`\r${' '.repeat(liveLen)}\r`);
      liveLen = 0;
      if (message) stream.write(`${message}\n`);
    },
  };
}
