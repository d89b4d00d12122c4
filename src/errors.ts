/**
 * The error hierarchy every module throws. The CLI maps `exitCode` to the process
 * exit code and prints `message` without a stack trace (unless --debug/DEBUG).
 * Messages must never contain secrets.
 */

export const ExitCode = {
  OK: 0,
  ERROR: 1,
  CHANGES: 2,
  REFUSED: 3,
  PARTIAL: 4,
  USAGE: 64,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class OwnersyncError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.ERROR, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A config file problem; `problems` lists every error found, each naming file and key. */
export class ConfigError extends OwnersyncError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'), ExitCode.ERROR);
    this.problems = problems;
  }
}

/** A plan file that cannot be read or trusted. */
export class PlanFileError extends OwnersyncError {}

/** apply (or plan limits) refused: exit 3. */
export class RefusedError extends OwnersyncError {
  constructor(message: string) {
    super(message, ExitCode.REFUSED);
  }
}

/** Bad command-line usage: exit 64. */
export class UsageError extends OwnersyncError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}
