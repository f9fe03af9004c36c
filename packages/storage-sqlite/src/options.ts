import type { Database } from 'better-sqlite3';
import { describeValue, StorageConfigError } from 'reseolio/storage';

/** How to open the SQLite storage. */
export interface SqliteStorageOptions {
  /**
   * Path of the database file, relative to the working directory or absolute, or `':memory:'`
   * for a private in-memory database (one process, one adapter, gone on close). Ignored when
   * `database` is given. The file is created if missing.
   */
  filename?: string | undefined;
  /**
   * How long, in milliseconds, a call waits for another connection's write lock before failing
   * with a `SqliteStorageError` (`driverCode` `SQLITE_BUSY`). Several processes share one
   * file, so this must cover the longest write transaction any of them runs. The wait does not
   * block the event loop: the adapter tries again on timers (every 1 ms at first, at most
   * every 20 ms), and this process's writes wait in order behind the first. 0 fails at
   * once. An integer from 0 to 2147483647 (it is also the `busy_timeout` of a borrowed
   * connection, which SQLite keeps in a 32-bit integer).
   * @default 5000
   */
  busyTimeoutMs?: number | undefined;
  /**
   * An already open better-sqlite3 database to use instead of opening `filename`. It is
   * borrowed: the adapter sets its pragmas (WAL, `synchronous = NORMAL`, and `busy_timeout =
   * busyTimeoutMs` for the application's own statements; the adapter's statements run with it
   * off) and creates its tables, but never closes it.
   */
  database?: Database | undefined;
  /**
   * @internal How often, in milliseconds, the adapter looks for the events of other processes
   * without a file notification (see src/cross-process-feed.ts). Tests set it high to show
   * that notifications alone wake a waiter.
   * @default 250
   */
  crossProcessPollMs?: number | undefined;
}

/** @internal Options after validation and defaults. */
export interface ResolvedSqliteStorageOptions {
  filename: string;
  busyTimeoutMs: number;
  database: Database | undefined;
  crossProcessPollMs: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
/**
 * The fallback look for other processes' events: cheap (one `PRAGMA data_version` unless
 * something changed), and it bounds how late a wake-up comes when a notification is missed.
 */
const DEFAULT_CROSS_PROCESS_POLL_MS = 250;
/** SQLite's busy_timeout is a C int: anything larger wraps around (to 0, no waiting). */
const MAX_BUSY_TIMEOUT_MS = 2 ** 31 - 1;
/** setInterval fires every millisecond past this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** @internal */
export function resolveOptions(options: SqliteStorageOptions): ResolvedSqliteStorageOptions {
  const {
    filename,
    busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS,
    database,
    crossProcessPollMs = DEFAULT_CROSS_PROCESS_POLL_MS,
  } = options;
  if (database === undefined && (typeof filename !== 'string' || filename === '')) {
    throw new StorageConfigError(
      'createSqliteStorage needs `filename` (a path or ":memory:") or an open `database`.',
    );
  }
  if (database !== undefined) assertUsableDatabase(database);
  if (
    !Number.isInteger(busyTimeoutMs) ||
    busyTimeoutMs < 0 ||
    busyTimeoutMs > MAX_BUSY_TIMEOUT_MS
  ) {
    throw new StorageConfigError(
      `busyTimeoutMs must be an integer from 0 to ${MAX_BUSY_TIMEOUT_MS} milliseconds, got ` +
        `${describeValue(busyTimeoutMs)}.`,
    );
  }
  if (
    !Number.isInteger(crossProcessPollMs) ||
    crossProcessPollMs < 1 ||
    crossProcessPollMs > MAX_TIMER_MS
  ) {
    throw new StorageConfigError(
      `crossProcessPollMs must be an integer from 1 to ${MAX_TIMER_MS} milliseconds, ` +
        `got ${describeValue(crossProcessPollMs)}.`,
    );
  }
  return {
    filename: database?.name ?? filename ?? '',
    busyTimeoutMs,
    database,
    crossProcessPollMs,
  };
}

/**
 * A borrowed connection must be a better-sqlite3 `Database` that is open and may write: a
 * read-only one would pass a read-only `init()` on a migrated file and then fail every write.
 */
function assertUsableDatabase(database: Database): void {
  if (
    database === null ||
    typeof database !== 'object' ||
    typeof (database as Partial<Database>).prepare !== 'function'
  ) {
    throw new StorageConfigError(
      `\`database\` must be an open better-sqlite3 Database, got ${describeValue(database)}.`,
    );
  }
  if (!database.open) {
    throw new StorageConfigError(
      'The `database` given to createSqliteStorage is closed: pass an open connection, and ' +
        'keep it open until the storage is closed.',
    );
  }
  if (database.readonly) {
    throw new StorageConfigError(
      'The `database` given to createSqliteStorage was opened with `readonly: true`, and ' +
        'Reseolio writes jobs to it: open it without `readonly`.',
    );
  }
}
