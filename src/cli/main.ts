/**
 * Process entry: runs oclif, then maps whatever escaped a command to an exit code.
 * oclif exits 2 on a usage error; here 2 means "changes present", so usage errors
 * become 64 (EX_USAGE). Messages are printed without a stack trace unless --debug
 * or DEBUG is set, and always pass through the secret redactor.
 */
import { Errors, flush, run } from '@oclif/core';
import { ExitCode, OwnersyncError } from '../errors.js';
import { redact } from '../redact.js';

export function exitCodeFor(err: unknown): number {
  if (err instanceof OwnersyncError) return err.exitCode;
  if (err instanceof Errors.ExitError) return err.oclif.exit ?? ExitCode.ERROR;
  if (err instanceof Errors.CLIError) {
    // Parse errors and unknown flags: oclif marks them exit 2. An unknown command:
    // @oclif/plugin-not-found exits 127. All are usage errors (spec §4: 64).
    const exit = (err as Errors.CLIError).oclif?.exit;
    if (exit === 2 || exit === 127 || exit === undefined) return ExitCode.USAGE;
    return exit;
  }
  return ExitCode.ERROR;
}

function isDebug(argv: string[]): boolean {
  return argv.includes('--debug') || Boolean(process.env.DEBUG);
}

export async function main(argv: string[], entryUrl: string): Promise<void> {
  try {
    await run(argv, entryUrl);
    await flush();
  } catch (err) {
    if (err instanceof Errors.ExitError) {
      process.exitCode = err.oclif.exit;
      return;
    }
    const code = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    let text = `Error: ${message}`;
    if (code === ExitCode.USAGE && !/--help|\bhelp\b/.test(message)) text += `\nSee 'ownersync --help' for usage.`;
    if (isDebug(argv) && err instanceof Error && err.stack) text += `\n${err.stack}`;
    process.stderr.write(`${redact(text)}\n`);
    process.exitCode = code;
  }
}
