/**
 * The one error type users see. Every layer throws HccError for bad input or a failed precondition, with a
 * message that names the file or field and says what was expected; the CLI prints the message alone (no stack)
 * and exits with `exitCode`. Anything else that escapes is a bug and is reported as one.
 */
export class HccError extends Error {
  readonly exitCode: number;
  /** Extra structured detail for `--json` output (never patient identity). */
  readonly detail?: Record<string, unknown>;

  constructor(message: string, options: { exitCode?: number; detail?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HccError';
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.detail = options.detail;
  }
}

/** Process exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  /** The input was read but the work failed or the input was invalid. */
  failure: 1,
  /** The command line itself is wrong (unknown option, missing argument, ambiguous choice). */
  usage: 2,
  /** The installation is incomplete (addon not built, libtorch missing). */
  setup: 3,
} as const;

export function usageError(message: string): HccError {
  return new HccError(message, { exitCode: ExitCode.usage });
}
