/**
 * A fast-check property of the plan reader, parsePlan (src/plan/index.ts), fed with
 * arbitrary strings, arbitrary bytes, and mutations (flip, delete, insert characters;
 * flip bytes) of a real plan the CLI wrote against the emulator. It must return a plan
 * or throw PlanFileError naming the file — nothing else; a plan it returns must be
 * digestible; and a mutant whose digest still verifies must have the original body
 * (canonical JSON identical), i.e. no edit gets past the digest.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanFileError } from '../../src/errors.js';
import { canonicalJson, parsePlan, planBody, verifyIntegrity, type PlanFile } from '../../src/plan/index.js';
import { setup } from '../e2e/harness.js';
import { PERMISSIVE, planJson } from './helpers.js';

let validText: string;
let valid: PlanFile;

beforeAll(async () => {
  const e = await setup({ sync: PERMISSIVE });
  try {
    const p = await planJson(e);
    expect(p.code, p.stderr).toBe(2);
    validText = e.read(p.planFile);
    valid = parsePlan(validText);
  } finally {
    await e.stop();
  }
});

const counts = { strings: 0, bytes: 0, mutations: 0, mutationsParsed: 0, mutationsVerified: 0, mutationsVerifiedChanged: 0 };

function checkParse(input: string | Uint8Array): PlanFile | undefined {
  let plan: PlanFile;
  try {
    plan = parsePlan(input, 'fuzz.yaml');
  } catch (err) {
    if (!(err instanceof PlanFileError)) throw new Error(`parsePlan threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    expect(err.message.startsWith('fuzz.yaml')).toBe(true);
    return undefined;
  }
  // A plan the reader returns must be digestible (no CanonicalJsonError later in apply).
  verifyIntegrity(plan);
  return plan;
}

const PALETTE = [' ', ':', '-', '#', '"', "'", '\n', '\r', '\t', '0', '1', 'a', 'f', '&', '*', '!', '[', ']', '{', '}', ',', '|', '>', '?', '%', '@', '`', '\\', '\u00e9', '\u0000', '\ufeff', '\u2028', '~', '.'];
const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), ch: fc.constantFrom(...PALETTE) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), s: fc.oneof(fc.constantFrom(...PALETTE), fc.string({ unit: 'binary', maxLength: 6 })) }),
);

function mutate(text: string, ms: Array<{ op: 'flip' | 'delete' | 'insert'; at: number; ch?: string; n?: number; s?: string }>): string {
  let t = text;
  for (const m of ms) {
    const at = m.at % (t.length + 1);
    if (m.op === 'flip') t = t.slice(0, at) + m.ch! + t.slice(at + 1);
    else if (m.op === 'delete') t = t.slice(0, at) + t.slice(at + m.n!);
    else t = t.slice(0, at) + m.s! + t.slice(at);
  }
  return t;
}

describe('parsePlan property', () => {
  afterAll(() => {
    console.log(`[hardening] parsePlan property inputs: ${JSON.stringify(counts)}`);
  });

  it('arbitrary strings: a plan or PlanFileError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme-ascii', maxLength: 300 })), (s) => {
        counts.strings++;
        checkParse(s);
      }),
      { numRuns: 1500 },
    );
  });

  it('arbitrary bytes: a plan or PlanFileError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        counts.bytes++;
        checkParse(b);
      }),
      { numRuns: 1500 },
    );
  });

  it('mutations of the real plan: a mutant whose digest verifies has the original body', () => {
    const body = canonicalJson(planBody(valid));
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
        counts.mutations++;
        const text = mutate(validText, ms);
        const plan = checkParse(text);
        if (!plan) return;
        counts.mutationsParsed++;
        if (!verifyIntegrity(plan).ok) return;
        counts.mutationsVerified++;
        if (text !== validText) counts.mutationsVerifiedChanged++;
        expect(canonicalJson(planBody(plan))).toBe(body);
      }),
      { numRuns: 2500 },
    );
    // The mutations did reach the interesting region: some still parse.
    expect(counts.mutationsParsed).toBeGreaterThan(0);
  });

  it('mutations as bytes (invalid UTF-8 sequences included)', () => {
    const bytes = Buffer.from(validText, 'utf8');
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), (at, v) => {
        counts.bytes++;
        const b = Buffer.from(bytes);
        b[at] = v;
        checkParse(b);
      }),
      { numRuns: 1000 },
    );
  });
});
