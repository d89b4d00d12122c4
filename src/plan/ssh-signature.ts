/**
 * SSH-signed approvals, the way git verifies SSH-signed commits: the approver signs
 * the plan digest with `ssh-keygen -Y sign` (namespace `ownersync-plan`), and apply
 * verifies it with `ssh-keygen -Y verify` against an allowed-signers file, with the
 * approval's `by` as the principal. "Approved by alice" is then checkable, not a name.
 *
 * We shell out to ssh-keygen rather than parse SSHSIG ourselves: it is the reference
 * implementation, it handles every key type and ssh-agent, and the allowed-signers
 * format (options, cert-authority, valid-after …) is exactly git's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OwnersyncError } from '../errors.js';

/** The SSHSIG namespace: a signature made for git or for another tool cannot be replayed here. */
export const SSH_NAMESPACE = 'ownersync-plan';

/** The ssh-keygen binary (overridable for tests and unusual installs). */
function sshKeygen(): string {
  return process.env.OWNERSYNC_SSH_KEYGEN || 'ssh-keygen';
}

function firstLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).pop() ?? '';
}

/** Sign `digest` with the SSH key at `keyPath` (private key, or public key with the private one in ssh-agent). */
export function sshSignDigest(digest: string, keyPath: string): string {
  const res = spawnSync(sshKeygen(), ['-Y', 'sign', '-f', keyPath, '-n', SSH_NAMESPACE], {
    input: digest,
    encoding: 'utf8',
    // stdin carries the message; a passphrase prompt goes to the terminal (ssh-keygen opens /dev/tty).
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (res.error) {
    const code = (res.error as NodeJS.ErrnoException).code;
    throw new OwnersyncError(
      code === 'ENOENT'
        ? `cannot sign the approval: ssh-keygen was not found on PATH (needed for --ssh-key)`
        : `cannot sign the approval with ${keyPath}: ${res.error.message}`,
    );
  }
  if (res.status !== 0 || !res.stdout.includes('-----BEGIN SSH SIGNATURE-----')) {
    throw new OwnersyncError(`cannot sign the approval with ${keyPath}: ssh-keygen -Y sign failed: ${firstLine(res.stderr) || `exit ${res.status}`}`);
  }
  return res.stdout.endsWith('\n') ? res.stdout : `${res.stdout}\n`;
}

export interface SshVerifyResult {
  ok: boolean;
  /** Why not, when not ok (ssh-keygen's own words). */
  reason?: string;
}

/**
 * Verify an armored SSH signature over `digest` for `principal` against the
 * allowed-signers file. Throws OwnersyncError only when ssh-keygen cannot be run.
 */
export function sshVerifyDigest(digest: string, signature: string, principal: string, allowedSignersPath: string): SshVerifyResult {
  const dir = mkdtempSync(join(tmpdir(), 'ownersync-sshsig-'));
  try {
    const sigPath = join(dir, 'approval.sig');
    writeFileSync(sigPath, signature, { mode: 0o600 });
    const res = spawnSync(
      sshKeygen(),
      ['-Y', 'verify', '-f', allowedSignersPath, '-I', principal, '-n', SSH_NAMESPACE, '-s', sigPath],
      { input: digest, encoding: 'utf8', timeout: 30_000 },
    );
    if (res.error) {
      const code = (res.error as NodeJS.ErrnoException).code;
      throw new OwnersyncError(
        code === 'ENOENT'
          ? `cannot verify SSH-signed approvals: ssh-keygen was not found on PATH`
          : `cannot verify SSH-signed approvals: ${res.error.message}`,
      );
    }
    if (res.status === 0) return { ok: true };
    return { ok: false, reason: firstLine(res.stderr) || firstLine(res.stdout) || `ssh-keygen exit ${res.status}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
