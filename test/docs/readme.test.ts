/** The README is the front door: its reference sections must match the code. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');

describe('README', () => {
  it('has the two quick-start commands, and package.json defines them', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test');
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.demo).toBeDefined();
    expect(pkg.scripts.test).toBeDefined();
  });

  it('has a configuration reference generated from the current schema', () => {
    const r = spawnSync(process.execPath, [path.join(REPO, 'scripts/config-reference.js'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('documents every command', () => {
    const commands = readdirSync(path.join(REPO, 'src/commands')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
    expect(commands.length).toBeGreaterThanOrEqual(6);
    for (const c of commands) expect(readme).toContain(`## \`ownersync ${c}`);
  });

  it('lists every exit code of spec §4', () => {
    for (const code of ['| 0 |', '| 1 |', '| 2 |', '| 3 |', '| 4 |', '| 64 |']) expect(readme).toContain(code);
  });
});
