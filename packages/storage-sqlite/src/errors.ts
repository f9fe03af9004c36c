import { describeValue, ReseolioError, StorageConfigError, StorageError } from 'reseolio/storage';

/** What the messages may name: the database file and the configured lock wait. */
export interface SqliteErrorContext {
  /** The database's path, or `':memory:'`. */
  filename?: string | undefined;
  /** The adapter's `busyTimeoutMs`. */
  busyTimeoutMs?: number | undefined;
}

/**
 * A SQLite operation failed: a lock wait that ran out, a full disk, a damaged file, a write
 * refused by a read-only connection… A `StorageError` (code `RESEOLIO_STORAGE`, like every
 * adapter's): the driver's `SqliteError` is the `cause`, its code (`SQLITE_BUSY`,
 * `SQLITE_CONSTRAINT_PRIMARYKEY`…) is in `driverCode`, and the adapter call that failed is in
 * `operation`. The message says what to do next where SQLite's code tells.
 */
export class SqliteStorageError extends StorageError {
  constructor(operation: string, cause: unknown, context: SqliteErrorContext = {}) {
    const driver = driverError(cause);
    const code = driverCode(driver);
    const advice = code === undefined ? undefined : adviceFor(code, context);
    const where = context.filename === undefined ? '' : ` ${describeValue(context.filename)}`;
    super(
      `SQLite storage${where}: ${operation} failed` +
        `${code === undefined ? '' : ` with ${code}`}: ${driverMessage(driver)}.` +
        (advice === undefined ? '' : ` ${advice}`),
      { cause: driver, operation, driverCode: code },
    );
  }
}

/**
 * @internal The error to throw for `error`, thrown by the driver during `operation`: our own
 * errors as they are; while opening the database (`init`), the codes that mean this file or
 * connection cannot be used as configured, a `StorageConfigError`; anything else a
 * `SqliteStorageError`. Either way the cause is the driver's own error (a `SqliteError`
 * unwrapped from drizzle's `DrizzleQueryError`, whose message would repeat the query's
 * parameters).
 */
export function sqliteFailure(
  operation: string,
  error: unknown,
  context: SqliteErrorContext,
): Error {
  if (error instanceof ReseolioError) return error;
  const driver = driverError(error);
  const code = driverCode(driver);
  if (operation === 'init' && code !== undefined) {
    const primary = primaryCode(code);
    if (CONFIG_CODES.has(primary)) {
      return new StorageConfigError(
        `Cannot use the SQLite database ${describeValue(context.filename ?? '')} (${code}: ` +
          `${driverMessage(driver)}). ${adviceFor(code, context)}`,
        { cause: driver },
      );
    }
  }
  return new SqliteStorageError(operation, driver, context);
}

/**
 * Codes that, while opening the database, mean the configuration is wrong, not that the
 * database had a bad moment: retrying will not help. Later, the same codes (a file made
 * read-only or replaced while in use) are storage errors like any other.
 */
const CONFIG_CODES = new Set([
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  'SQLITE_READONLY',
  'SQLITE_PERM',
  'SQLITE_AUTH',
]);

/** What to do about each primary result code we can say something useful about. */
function adviceFor(code: string, context: SqliteErrorContext): string | undefined {
  switch (primaryCode(code)) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return (
        "Another connection held the database's write lock longer than busyTimeoutMs" +
        `${context.busyTimeoutMs === undefined ? '' : ` (${context.busyTimeoutMs} ms)`}: raise ` +
        'busyTimeoutMs, or shorten the write transactions that other processes and connections ' +
        'run on this file.'
      );
    case 'SQLITE_FULL':
      return (
        'The disk holding the database (or its -wal file) is full, or the database reached ' +
        'its max_page_count: free disk space, then retry.'
      );
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
      return (
        'The database cannot be written: check that this process may write the file and its ' +
        'folder (SQLite creates -wal and -shm files beside it) and that the filesystem is not ' +
        'read-only. A borrowed connection must not be opened with `readonly: true` or have ' +
        '`PRAGMA query_only` on.'
      );
    case 'SQLITE_CORRUPT':
      return (
        'The database file is damaged: restore it from a backup, or give `filename` a new ' +
        'path (the sqlite3 shell\'s ".recover" may salvage rows from the damaged file).'
      );
    case 'SQLITE_NOTADB':
      return (
        'The file is not a SQLite database (or it is encrypted): give `filename` the path of a ' +
        'Reseolio database or of a file that does not exist yet, which is then created.'
      );
    case 'SQLITE_CANTOPEN':
      return (
        'The file cannot be opened: `filename` must name a file, not a folder, in a folder that ' +
        'exists and that this process may write.'
      );
    case 'SQLITE_IOERR':
      return (
        'The operating system failed to read or write the database file: check the disk and ' +
        'the filesystem (SQLite files must not be on a network filesystem).'
      );
    case 'SQLITE_NOMEM':
      return 'SQLite ran out of memory.';
    case 'SQLITE_MISMATCH':
      return (
        'A value of the wrong type reached a statement (such as a LIMIT or OFFSET that is not ' +
        'an integer SQLite can hold): check the values passed to the storage.'
      );
    case 'SQLITE_CONSTRAINT':
      return code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
        ? 'A job with this id already exists: every job needs a new id.'
        : undefined;
    default:
      return undefined;
  }
}

/** `SQLITE_BUSY` for `SQLITE_BUSY_SNAPSHOT`: extended codes refine a primary one. */
function primaryCode(code: string): string {
  return /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? code;
}

/**
 * The driver's own error: the first error in the cause chain with a `SQLITE_*` code, else the
 * innermost one. drizzle wraps what the driver throws for the queries it runs in a
 * `DrizzleQueryError` whose message repeats the query and its parameters.
 */
function driverError(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth += 1) {
    if (current === null || typeof current !== 'object') return current;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return current;
    const cause = (current as { cause?: unknown }).cause;
    if (!(cause instanceof Error)) return current;
    current = cause;
  }
  return current;
}

function driverCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The driver's message on one line and at most 300 characters: a message can quote the value
 * it refused, and a log line must stay readable.
 */
function driverMessage(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\p{Cc}+/gu, ' ');
  return text.length <= 300 ? text : `${text.slice(0, 300)}… (${text.length} characters)`;
}
