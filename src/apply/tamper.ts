/**
 * Reading a plan for apply/approve so that an edited plan is always reported as
 * tampered (exit 3), never as merely unreadable (exit 1).
 *
 * readPlan rejects a plan whose parts disagree (a change's userGuid edited on its own
 * line no longer matches its group's plannedMembers, an observed member edited
 * alone, …) with a PlanFileError before anyone compares the digest. For a plan that
 * was written by `ownersync plan` and then edited by hand, that is the wrong answer:
 * spec §6 says a digest that does not match the content is a refusal (exit 3) with
 * "modified after it was planned; plan again". So when readPlan fails, the raw
 * document is hashed the same way; if it carries a well-formed digest that its content
 * no longer hashes to, the refusal says so. A plan whose digest does match but that is
 * still invalid was produced broken, and keeps its PlanFileError.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { PlanFileError, RefusedError } from '../errors.js';
import { computeDigest, DIGEST_PATTERN, tamperedMessage, type IntegrityResult } from '../plan/digest.js';
import { readPlan } from '../plan/plan-file.js';
import type { PlanBody, PlanFile } from '../plan/types.js';

/** The integrity result of a plan file readPlan could not accept, when it shows tampering. */
export function rawTampering(file: string): IntegrityResult | undefined {
  try {
    const value = YAML.parse(readFileSync(file, 'utf8'), { schema: 'core', uniqueKeys: true, logLevel: 'error', maxAliasCount: 100 }) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const expected = (value as Record<string, unknown>).digest;
    if (typeof expected !== 'string' || !DIGEST_PATTERN.test(expected)) return undefined;
    const actual = computeDigest(value as PlanBody);
    return actual === expected ? undefined : { ok: false, expected, actual };
  } catch {
    // Not even hashable (YAML error, non-JSON value): readPlan's own error stands.
    return undefined;
  }
}

/**
 * readPlan, except that a file it rejects but whose recorded digest no longer matches
 * its content throws RefusedError(`${lead}: <tampered message>`) instead.
 */
export function readPlanOrRefuseTampered(file: string, lead: string): PlanFile {
  try {
    return readPlan(file);
  } catch (err) {
    if (!(err instanceof PlanFileError)) throw err;
    const integrity = rawTampering(file);
    if (!integrity) throw err;
    throw new RefusedError(`${lead}: ${tamperedMessage(file, integrity)}`);
  }
}
