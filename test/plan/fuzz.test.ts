/**
 * Whatever bytes sit in plan.yaml, readPlan either returns a plan that passes every
 * check or throws PlanFileError — never a TypeError, a YAML library error or a
 * console warning.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import { PlanFileError } from '../../src/errors.js';
import { readPlan, serializePlan } from '../../src/plan/plan-file.js';
import { planProblems } from '../../src/plan/validate.js';
import { makePlan, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir('ownersync-fuzz-')));
afterAll(() => cleanup());

let n = 0;
function check(content: string | Uint8Array): void {
  const path = join(dir, `plan-${n++ % 8}.yaml`);
  writeFileSync(path, content);
  try {
    const plan = readPlan(path);
    expect(planProblems(plan)).toEqual([]);
  } catch (err) {
    if (!(err instanceof PlanFileError)) throw new Error(`readPlan threw ${String((err as Error)?.name)}: ${String((err as Error)?.message)}`);
    expect(err.message.startsWith(`${path}: `) || err.message.startsWith(`${path} `)).toBe(true);
  }
}

const validText = serializePlan(makePlan());

describe('readPlan fuzz', () => {
  const warn = vi.spyOn(process, 'emitWarning');
  afterAll(() => {
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), check), { numRuns: 150 });
  });

  it('arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), check), { numRuns: 150 });
  });

  it('arbitrary YAML-ish text built from YAML tokens', () => {
    const token = fc.constantFrom(
      'formatVersion: 1\n', 'formatVersion: 7\n', '- ', ': ', '\n', '  ', '{', '}', '[', ']', ',', '&a ', '*a', '!!str ', '!!binary ',
      '? ', '|\n', '>-\n', '"', "'", '#', '---\n', '...\n', '%YAML 1.1\n', 'null', '~', 'true', '0x1F', '.inf', '-.nan', '1e400',
      'changes:\n', 'groups:\n', '  - groupGuid: x\n', 'digest: sha256:00\n', '__proto__: ', 'constructor: ', '<<: ', '\t', '\u00a0', '\ufeff',
    );
    fc.assert(fc.property(fc.array(token, { maxLength: 60 }).map((t) => t.join('')), check), { numRuns: 200 });
  });

  it('arbitrary JSON-like objects written as YAML', () => {
    fc.assert(fc.property(fc.anything({ maxDepth: 4 }), (v) => {
      let text: string;
      try {
        text = YAML.stringify(v, { logLevel: 'silent' } as YAML.ToStringOptions);
      } catch {
        return;
      }
      check(text ?? '');
    }), { numRuns: 150 });
  });

  it('plans with random fields replaced by arbitrary values', () => {
    const plan = makePlan() as unknown as Record<string, unknown>;
    const keys = Object.keys(plan);
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 }), (key, value) => {
        check(YAML.stringify({ ...structuredClone(plan), [key]: value }));
      }),
      { numRuns: 120 },
    );
  });

  it('a valid plan with random single-character edits, insertions and truncations', () => {
    fc.assert(
      fc.property(fc.nat(validText.length), fc.string({ unit: 'binary', maxLength: 3 }), fc.nat(3), (at, s, del) => {
        check(validText.slice(0, at) + s + validText.slice(at + del));
      }),
      { numRuns: 200 },
    );
    fc.assert(fc.property(fc.nat(validText.length), (at) => check(validText.slice(0, at))), { numRuns: 50 });
  });
});
