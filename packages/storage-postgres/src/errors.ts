import { StorageError } from 'reseolio/storage';

/**
 * A PostgreSQL error that is not a connection failure (or a connection failure that outlasted
 * `connectionRetryMs`). A `StorageError` (code `RESEOLIO_STORAGE`, like every adapter's): the
 * driver's error is the `cause`, its SQLSTATE (or Node error code) is in `sqlState` and
 * `driverCode`, and the adapter call that failed in `operation`.
 */
export class PostgresStorageError extends StorageError {
  /** The driver's SQLSTATE (`23505`, `42P01`…) or Node error code, when there was one. */
  readonly sqlState: string | undefined;

  constructor(operation: string, cause: unknown) {
    const sqlState = codeOf(cause);
    super(
      `PostgreSQL storage: ${operation} failed${sqlState === undefined ? '' : ` (${sqlState})`}: ` +
        driverMessage(cause),
      { cause, operation, driverCode: sqlState },
    );
    this.sqlState = sqlState;
  }
}

/** The first string `code` on the error or its causes (a migration error wraps the driver's). */
function codeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; depth < 5; depth += 1) {
    if (current === null || typeof current !== 'object') return undefined;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The driver's message on one line and at most 300 characters: a message can quote the value
 * it refused, and a log line must stay readable.
 */
function driverMessage(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\p{Cc}+/gu, ' ');
  return text.length <= 300 ? text : `${text.slice(0, 300)}… (${text.length} characters)`;
}
