/** `show` checks a plan's integrity once and every rendering reports it. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writePlan } from '../../src/plan/index.js';
import { makePlan, tempDir } from '../plan/helpers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/run.js');

describe('show reports whether the plan is intact', () => {
  const { dir, cleanup } = tempDir();
  afterAll(cleanup);
  const intact = path.join(dir, 'plan.yaml');
  const edited = path.join(dir, 'edited.yaml');
  writePlan(intact, makePlan());
  // A display-only edit keeps the plan consistent (it still reads), but breaks the digest.
  const text = readFileSync(intact, 'utf8');
  const reason = /reason: (.+)/.exec(text)![1]!;
  writeFileSync(edited, text.replace(`reason: ${reason}`, 'reason: looks harmless'));

  const show = (file: string, ...args: string[]) => spawnSync(process.execPath, [BIN, 'show', file, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });

  it('--json: intact true, then false after an edit', () => {
    expect(JSON.parse(show(intact, '--json').stdout).intact).toBe(true);
    expect(JSON.parse(show(edited, '--json').stdout).intact).toBe(false);
  });

  it('--markdown: a caution only for the edited plan', () => {
    expect(show(intact, '--markdown').stdout).not.toContain('modified after it was planned');
    expect(show(edited, '--markdown').stdout).toContain('modified after it was planned');
  });

  it('text: intact, or MODIFIED', () => {
    expect(show(intact).stdout).toContain('intact');
    expect(show(edited).stdout).toContain('MODIFIED after planning');
  });
});
