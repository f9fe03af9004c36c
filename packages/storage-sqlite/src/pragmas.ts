import type { Database } from 'better-sqlite3';

/**
 * Connection settings every Reseolio connection needs. `busy_timeout` comes first so the
 * others, which may need a lock while another process is opening the same file, wait for it
 * instead of failing.
 * - WAL: readers never block the writer and vice versa, and several processes can share the
 *   file. (An in-memory database stays in `memory` mode; that is expected.)
 * - synchronous = NORMAL: in WAL mode a commit survives a process crash; only an OS crash or
 *   power loss can lose the last commits, which is the usual trade for job queues.
 */
export function applyPragmas(db: Database, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
}
