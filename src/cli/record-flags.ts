/** The --record / --record-raw flags shared by `plan` and `validate --online` (see src/transcript/recorder.ts). */
import { Flags } from '@oclif/core';

/** The --record / --record-raw flags of `plan` and `validate --online`. */
export const RECORD_FLAGS = {
  record: Flags.string({ description: 'Write a transcript of every HTTP exchange (pseudonymised, no credentials) to this file, for a problem report. Check it with `ownersync transcript check FILE`.' }),
  'record-raw': Flags.boolean({ description: 'With --record: keep real names and identifiers (credentials are still left out). NOT safe to share; for your own debugging only.', dependsOn: ['record'] }),
};
