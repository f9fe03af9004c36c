import type { Database } from 'better-sqlite3';

/**
 * How long SQLite itself may make a statement wait for a lock, set first and needing no lock.
 * The adapter's own connection: 0, never: a wait inside the synchronous driver would block the
 * event loop, so the adapter waits for locks on timers instead (see lock-queue.ts). A borrowed
 * connection keeps `busyTimeoutMs` for the application's own statements, and the adapter's
 * statements switch it off while they run ({@link withoutLockWaits}).
 */
export function setBusyTimeout(db: Database, busyTimeoutMs: number, borrowed: boolean): void {
  db.pragma(`busy_timeout = ${borrowed ? busyTimeoutMs : 0}`);
}

/**
 * Connection settings every Reseolio connection needs. Switching a file to WAL takes a lock, so
 * this runs, like every statement of the adapter, without SQLite's busy wait and is retried
 * whole after `SQLITE_BUSY` (it is idempotent).
 * - WAL: readers never block the writer and vice versa, and several processes can share the
 *   file. (An in-memory database stays in `memory` mode; that is expected.)
 * - synchronous = NORMAL: in WAL mode a commit survives a process crash; only an OS crash or
 *   power loss can lose the last commits, which is the usual trade for job queues.
 */
export function applyPragmas(db: Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
}

/**
 * Runs the adapter's statements with SQLite's busy wait off. Only a borrowed file connection
 * needs the switch (its `busy_timeout` is the application's); the adapter's own connection
 * has it off for good, and an in-memory database has no other connection to wait for.
 * Nothing else runs on the thread in between, so the application never sees the 0.
 */
export function withoutLockWaits(
  db: Database,
  busyTimeoutMs: number,
  borrowed: boolean,
): <T>(fn: () => T) => T {
  if (!borrowed || db.memory || busyTimeoutMs === 0) return (fn) => fn();
  const off = db.prepare('PRAGMA busy_timeout = 0');
  const on = db.prepare(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  return (fn) => {
    off.run();
    try {
      return fn();
    } finally {
      on.run();
    }
  };
}
