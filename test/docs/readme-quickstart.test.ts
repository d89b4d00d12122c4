/**
 * The README's CLI quick start runs end to end exactly as printed: its two shell blocks
 * (marked <!-- quickstart:emulator --> and <!-- quickstart:session -->) are taken from
 * README.md and run with bash, line by line, in a scratch directory inside the checkout,
 * as the README says. Expected exit codes are the README's own comments.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');

function block(marker: string): string[] {
  const m = new RegExp(`<!-- quickstart:${marker} -->\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!m) throw new Error(`README.md has no \`\`\`sh block after <!-- quickstart:${marker} -->`);
  return m[1]!.split('\n');
}

describe('README quick start', () => {
  // A directory of its own under tmp/ (gitignored), like the README's tmp/quickstart.
  const dir = path.join(REPO, 'tmp', `quickstart-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, NO_COLOR: '1' };

  it('tells the reader to build and to work in tmp/quickstart inside the checkout', () => {
    expect(readme).toContain('```sh\nnpm ci && npm run build\nmkdir -p tmp/quickstart && cd tmp/quickstart\n```');
  });

  it('plan → show → approve → apply → plan again with no changes, as printed', async () => {
    const [emulatorLine] = block('emulator');
    const emulator = spawn('bash', ['-c', emulatorLine!], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let banner = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the emulator did not start:\n${banner}`)), 60_000);
        emulator.stdout.setEncoding('utf8').on('data', (d: string) => {
          banner += d;
          if (banner.includes('Wrote emulator.env')) {
            clearTimeout(timer);
            resolve();
          }
        });
        emulator.stderr.setEncoding('utf8').on('data', (d: string) => (banner += d));
        emulator.on('close', (code) => reject(new Error(`the emulator exited ${code}:\n${banner}`)));
      });

      const lines = block('session');
      // One bash session (the `.` line sets the environment for the rest), no -e: each line's exit code is recorded.
      const script = lines.map((l) => `${l}\necho "::rc=$?"`).join('\n');
      const out = await new Promise<string>((resolve) => {
        const child = spawn('bash', ['--noprofile', '--norc', '-c', script], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (text += d));
        child.on('close', () => resolve(text));
      });
      const codes = [...out.matchAll(/^::rc=(\d+)$/gm)].map((m) => Number(m[1]));
      expect(lines.map((l, i) => `${codes[i]} ${l.replace(/\s+#.*$/, '')}`)).toEqual([
        '0 . ./emulator.env',
        '0 npx ownersync validate',
        '2 npx ownersync plan --detailed-exitcode',
        '0 npx ownersync show plan.yaml',
        '0 npx ownersync approve plan.yaml --by "Jane Doe"',
        '0 npx ownersync apply plan.yaml',
        '0 npx ownersync plan --detailed-exitcode',
      ]);
      expect(out).toContain('Apply complete: 13 done');
      expect(out).toContain('Approved plan.yaml');
      // The output of the last line (between the last two exit-code markers): the plan again, with nothing to do.
      const lastPlan = out.split(/^::rc=\d+$/m).at(-2) ?? '';
      expect(lastPlan).toContain('No changes. HelloID resource-owner groups match Exchange FullAccess.');
    } finally {
      emulator.kill('SIGTERM');
    }
  }, 180_000);
});
