/**
 * The exit codes a script can rely on. They are part of the CLI's contract:
 * documented in `hearth --help` and the package README, and never reused for
 * another meaning.
 */
export const ExitCode = {
  /** The command did what was asked. */
  Success: 0,
  /** The API answered an error, or the invoked function failed (FunctionError set). */
  Failure: 1,
  /** Bad usage: unknown command or flag, a missing or malformed argument. */
  Usage: 2,
  /** The endpoint could not be reached (connection refused, timeout, connection lost). */
  Unreachable: 3,
  /** `hearth publish`: the version ended Failed, or was not Active before `--timeout`. */
  PublishNotActive: 4,
  /** Interrupted by a signal before the command finished (`hearth up` reports its child's code). */
  Interrupted: 130,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
