import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approve } from '../../src/plan/approve.js';
import { readPlan, writePlan } from '../../src/plan/plan-file.js';
import { signPlan } from '../../src/plan/signature.js';
import { sshSignDigest, sshVerifyDigest } from '../../src/plan/ssh-signature.js';
import { OwnersyncError, PlanFileError, RefusedError, UsageError } from '../../src/errors.js';
import { makePlan, NOW, tempDir } from './helpers.js';

const KEY = 'approve-test-signing-key-123';
const LATER = new Date('2025-03-01T12:00:00.000Z');

let dir: string;
let cleanup: () => void;
let planPath: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  planPath = join(dir, 'plan.yaml');
});
afterEach(() => cleanup());

function refusal(fn: () => unknown): RefusedError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).exitCode).toBe(3);
    return err as RefusedError;
  }
  throw new Error('did not refuse');
}

describe('approve', () => {
  it('appends an approval bound to the digest and leaves the body untouched', () => {
    const plan = makePlan();
    writePlan(planPath, plan);
    const updated = approve(planPath, { by: ' alice@contoso.com ', comment: 'looks right', at: LATER });
    expect(updated.approvals).toEqual([{ by: 'alice@contoso.com', at: LATER.toISOString(), digest: plan.digest, comment: 'looks right' }]);
    const back = readPlan(planPath);
    expect(back).toEqual(updated);
    expect(back.digest).toBe(plan.digest);
    approve(planPath, { by: 'bob', at: LATER });
    expect(readPlan(planPath).approvals.map((a) => a.by)).toEqual(['alice@contoso.com', 'bob']);
    expect(readPlan(planPath).approvals[1]).not.toHaveProperty('comment');
  });

  it('refuses a tampered plan and does not write', () => {
    writePlan(planPath, makePlan());
    const text = readFileSync(planPath, 'utf8').replace('user4@contoso.com', 'mallory@contoso.com');
    writeFileSync(planPath, text);
    const err = refusal(() => approve(planPath, { by: 'alice', at: LATER }));
    expect(err.message).toMatch(
      new RegExp(`^refusing to approve: ${planPath} has been modified after it was planned \\(digest sha256:[0-9a-f]{64} expected, content hashes to sha256:[0-9a-f]{64}\\)`),
    );
    expect(readFileSync(planPath, 'utf8')).toBe(text);
  });

  it('with a signing key: accepts a good signature, refuses a missing or wrong one', () => {
    writePlan(planPath, signPlan(makePlan(), KEY));
    expect(approve(planPath, { by: 'alice', at: LATER, signingKey: KEY }).approvals).toHaveLength(1);
    expect(refusal(() => approve(planPath, { by: 'alice', at: LATER, signingKey: `${KEY}-other` })).message).toMatch(
      /plan\.yaml has a signature that does not verify with the configured OWNERSYNC_SIGNING_KEY/,
    );
    writePlan(planPath, makePlan());
    expect(refusal(() => approve(planPath, { by: 'alice', at: LATER, signingKey: KEY })).message).toMatch(
      /plan\.yaml is not signed, but a signing key is configured \(OWNERSYNC_SIGNING_KEY\)/,
    );
  });

  it('refuses an expired plan', () => {
    writePlan(planPath, makePlan({ now: NOW }));
    expect(refusal(() => approve(planPath, { by: 'alice', at: new Date('2025-03-04T10:00:00.000Z') })).message).toBe(
      `refusing to approve: ${planPath} expired at 2025-03-04T10:00:00.000Z (created 2025-03-01T10:00:00.000Z); apply would refuse it. Run \`ownersync plan\` again and approve the new plan.`,
    );
  });

  it('rejects an empty or multi-line --by (usage error)', () => {
    writePlan(planPath, makePlan());
    expect(() => approve(planPath, { by: '  ', at: LATER })).toThrow(UsageError);
    expect(() => approve(planPath, { by: 'a\nb', at: LATER })).toThrow(UsageError);
  });

  it('passes read errors through as PlanFileError', () => {
    expect(() => approve(join(dir, 'none.yaml'), { by: 'alice', at: LATER })).toThrow(PlanFileError);
  });
});

const hasSshKeygen = spawnSync('sh', ['-c', 'command -v ssh-keygen'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasSshKeygen)('SSH-signed approvals (ssh-keygen -Y sign / -Y verify)', () => {
  function keypair(name: string): string {
    const key = join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
    return key;
  }
  function allowedSigners(entries: Array<[string, string]>): string {
    const path = join(dir, 'allowed_signers');
    writeFileSync(path, entries.map(([principal, key]) => `${principal} namespaces="ownersync-plan" ${readFileSync(`${key}.pub`, 'utf8').trim()}`).join('\n') + '\n');
    return path;
  }

  it('signs the digest on approve, and the signature verifies for that principal only', () => {
    const alice = keypair('alice');
    const mallory = keypair('mallory');
    const signers = allowedSigners([['alice@contoso.com', alice]]);
    writePlan(planPath, makePlan());
    const plan = approve(planPath, { by: 'alice@contoso.com', at: LATER, sshSign: { keyPath: alice } });
    const a = plan.approvals[0]!;
    expect(a.sshSignature).toMatch(/^-----BEGIN SSH SIGNATURE-----\n[\s\S]+-----END SSH SIGNATURE-----\n$/);
    expect(readPlan(planPath).approvals[0]).toEqual(a);

    expect(sshVerifyDigest(plan.digest, a.sshSignature!, 'alice@contoso.com', signers)).toEqual({ ok: true });
    // Another principal, another digest, another key: all refused.
    expect(sshVerifyDigest(plan.digest, a.sshSignature!, 'bob@contoso.com', signers).ok).toBe(false);
    expect(sshVerifyDigest(`sha256:${'0'.repeat(64)}`, a.sshSignature!, 'alice@contoso.com', signers).ok).toBe(false);
    const forged = sshSignDigest(plan.digest, mallory);
    const res = sshVerifyDigest(plan.digest, forged, 'alice@contoso.com', signers);
    expect(res.ok).toBe(false);
    expect(res.reason).toBeTruthy();
  });

  it('a signature made for another namespace (e.g. git) does not verify', () => {
    const alice = keypair('alice');
    const signers = join(dir, 'allowed_signers');
    writeFileSync(signers, `alice ${readFileSync(`${alice}.pub`, 'utf8').trim()}\n`);
    const digest = makePlan().digest;
    const gitSig = execFileSync('ssh-keygen', ['-Y', 'sign', '-f', alice, '-n', 'git'], { input: digest, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    expect(sshVerifyDigest(digest, gitSig, 'alice', signers).ok).toBe(false);
    expect(sshVerifyDigest(digest, sshSignDigest(digest, alice), 'alice', signers).ok).toBe(true);
  });

  it('names the key when signing fails', () => {
    writePlan(planPath, makePlan());
    expect(() => approve(planPath, { by: 'alice', at: LATER, sshSign: { keyPath: join(dir, 'no-such-key') } })).toThrow(OwnersyncError);
    expect(() => approve(planPath, { by: 'alice', at: LATER, sshSign: { keyPath: join(dir, 'no-such-key') } })).toThrow(/no-such-key/);
    expect(readPlan(planPath).approvals).toEqual([]);
  });
});

if (!hasSshKeygen) {
  describe('SSH-signed approvals', () => {
    it.skip('skipped: ssh-keygen is not installed on this machine (needed for -Y sign / -Y verify)', () => {});
  });
}
