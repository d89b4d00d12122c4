/**
 * Base of every command: shared flags, and errors rethrown to src/cli/main.ts, which
 * owns the exit-code mapping. With --json an error is also printed as JSON on stdout,
 * so a pipeline that parses stdout gets a parseable answer either way.
 * Commands stay thin: parse, call, render.
 */
import { Command, Flags } from '@oclif/core';
import { SIGNING_KEY_ENV } from '../plan/signature.js';
import { redact, registerSecret } from '../redact.js';
import { exitCodeFor } from './main.js';

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({ description: 'Print stack traces on errors (also DEBUG=1).', helpGroup: 'GLOBAL' }),
    'no-color': Flags.boolean({ description: 'Disable colour (also NO_COLOR, and whenever stdout is not a TTY).', helpGroup: 'GLOBAL' }),
  };

  /** The plan-signing key from OWNERSYNC_SIGNING_KEY (empty counts as unset), registered for redaction. */
  protected signingKey(): string | undefined {
    const key = process.env[SIGNING_KEY_ENV] || undefined;
    registerSecret(key);
    return key;
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (this.jsonEnabled()) {
      this.logJson({ error: { message: redact(err.message ?? String(err)), exitCode: exitCodeFor(err) } });
    }
    throw err;
  }
}
