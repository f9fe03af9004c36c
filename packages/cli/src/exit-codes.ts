/**
 * The exit codes of `reseolio`, which scripts may rely on (documented in the README).
 * A command that succeeds exits 0; `doctor` also exits 3 when it found only warnings.
 */
export const EXIT = Object.freeze({
  /** Done as asked. */
  ok: 0,
  /** An operational failure: storage unreachable, not migrated, a job or schedule not found… */
  failure: 1,
  /** A usage error: unknown command or option, bad option value, no storage configured. */
  usage: 2,
  /** `doctor` only: no check failed, but at least one warned. */
  warnings: 3,
});

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The command line cannot be carried out as written: exit 2, nothing was changed. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command ran but could not do what was asked (exit 1); the message says why. */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
}
