/**
 * Base of every command: shared flags, and errors rethrown to src/cli/main.ts, which
 * owns the exit-code mapping. Commands stay thin: parse, call, render.
 */
import { Command, Flags } from '@oclif/core';

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({ description: 'Print stack traces on errors.', helpGroup: 'GLOBAL' }),
    'no-color': Flags.boolean({ description: 'Disable colour (also NO_COLOR, non-TTY).', helpGroup: 'GLOBAL' }),
  };

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    throw err;
  }
}
