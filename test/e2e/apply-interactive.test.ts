/**
 * Spec §1/§6: locally, apply without a recorded approval shows the plan and asks for
 * "yes" on a terminal. Run under a real pseudo-terminal (util-linux `script`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, helloidWrites, setup, type Env } from './harness.js';

const hasScript = spawnSync('sh', ['-c', 'command -v script']).status === 0;

function onTerminal(e: Env, args: string[], answer: string): Promise<{ code: number | null; out: string }> {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: e.dir, env: { ...e.env, TERM: 'dumb' } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      // Answer once the question is on the screen.
      if (out.includes("Only 'yes' will be accepted") && !child.stdin.writableEnded) child.stdin.end(`${answer}\n`);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe.skipIf(!hasScript)('apply on a terminal without an approval', () => {
  let e: Env;
  beforeAll(async () => {
    e = await setup();
    const plan = await e.run(['plan', '-q']);
    expect(plan.code).toBe(0);
  });
  afterAll(async () => e?.stop());

  it('anything but "yes" changes nothing (exit 3)', async () => {
    const before = helloidWrites(e.emulator);
    const r = await onTerminal(e, ['apply', 'plan.yaml'], 'y');
    expect(r.out).toContain('This plan has no recorded approval');
    expect(r.out).toContain('Plan: 11 to add, 2 to remove');
    expect(r.code).toBe(3);
    expect(r.out).toContain('was not confirmed. Nothing was changed.');
    expect(helloidWrites(e.emulator)).toBe(before);
  });

  it('"yes" applies the plan', async () => {
    const r = await onTerminal(e, ['apply', 'plan.yaml'], 'yes');
    expect(r.out).toContain('Apply complete: 13 done');
    expect(r.code).toBe(0);
    expect(helloidWrites(e.emulator)).toBe(13);
  });
});
