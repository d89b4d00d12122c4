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

/**
 * A plan file the reader rejects whose recorded digest also no longer matches its
 * content: it was edited by hand. The message lists the reader's problems; callers that
 * act on plans (apply, approve, show) refuse it as tampered (exit 3) using `integrity`.
 */
export class PlanTamperedError extends PlanFileError {
  readonly integrity: { ok: false; expected: string; actual: string };
  constructor(message: string, integrity: { ok: false; expected: string; actual: string }) {
    super(message);
    this.integrity = integrity;
  }
}

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
