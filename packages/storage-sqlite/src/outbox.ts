import type { Database, Statement } from 'better-sqlite3';
import type { StorageEvent } from 'reseolio/storage';
import { prepareOthersListening } from './listener-registration.ts';
import { ORIGIN } from './origin.ts';

/** The outbox keeps at least this many of the newest rows for readers that fall behind. */
export const KEEP_ROWS = 10_000;
/** Every this many rows, the writing transaction deletes the rows older than {@link KEEP_ROWS}. */
const PRUNE_EVERY = 1_000;

/**
 * Writes a transaction's events into `reseolio_events` (see schema.ts) for the other processes
 * on the file. Call inside the write transaction, so the row commits or rolls back with the
 * change it announces. `finished` outcomes stay out: a result can be large, and a reader reads
 * the job's state anyway (one indexed read); so does a large `progress`.
 *
 * Only while another origin listens (`reseolio_listeners`): a row costs the commit one more
 * page written to the WAL, which a process alone on its file would pay for nobody. The check
 * reads the registrations in the same transaction, so a listener that registered before it
 * began gets the row, and one that registers later reads its cursor after the row anyway.
 * @internal
 */
export interface Outbox {
  record(events: readonly StorageEvent[]): void;
  /**
   * Called (inside the transaction) when a write found a listener of another origin: this
   * adapter's feed then watches the file, if it did not (see cross-process-feed.ts).
   */
  onOthersListening: (() => void) | undefined;
}

/** @internal An in-memory database has no other process to tell. */
export function prepareOutbox(db: Database): Outbox {
  if (db.memory) return { record() {}, onOthersListening: undefined };
  const othersListening = prepareOthersListening(db);
  const insert = db.prepare('INSERT INTO reseolio_events (origin, events) VALUES (?, ?)');
  // A reader behind the pruned rows sees the gap and resyncs (cross-process-feed.ts).
  const prune: Statement<[number]> = db.prepare('DELETE FROM reseolio_events WHERE seq <= ?');
  return {
    onOthersListening: undefined,
    record(events) {
      if (events.length === 0 || !othersListening()) return;
      this.onOthersListening?.();
      const seq = Number(
        insert.run(ORIGIN, JSON.stringify(events.map(withoutOutcome))).lastInsertRowid,
      );
      if (seq % PRUNE_EVERY === 0) prune.run(seq - KEEP_ROWS);
    },
  };
}

/**
 * A progress value larger than this stays out of its row, as from a PostgreSQL notification:
 * rows are kept by the thousand ({@link KEEP_ROWS}), and a reader reads the job instead.
 */
export const MAX_OUTBOX_PROGRESS_BYTES = 7999;

function withoutOutcome(event: StorageEvent): StorageEvent {
  if (event.type === 'finished') {
    return { type: 'finished', jobId: event.jobId, status: event.status };
  }
  if (
    event.type === 'progress' &&
    event.progress !== undefined &&
    Buffer.byteLength(event.progress) > MAX_OUTBOX_PROGRESS_BYTES
  ) {
    return { type: 'progress', jobId: event.jobId, name: event.name };
  }
  return event;
}
