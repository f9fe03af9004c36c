import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { StorageEvent } from 'reseolio/storage';

/** @internal */
export type Listener = (event: StorageEvent) => void;

/**
 * Process-wide listeners, keyed by database: the real path of a file, so that two adapters in
 * one process on the same file hear each other's writes at once (with outcomes), or a
 * per-connection key for an in-memory database, which no other connection can see. Other
 * processes hear them through the outbox (outbox.ts, cross-process-feed.ts).
 */
const listenersByDatabase = new Map<string, Set<Listener>>();
const memoryKeys = new WeakMap<Database, string>();
let nextMemoryKey = 0;

/** @internal The key under which writes to `db` are announced. */
export function notificationKey(db: Database): string {
  if (db.memory) {
    let key = memoryKeys.get(db);
    if (key === undefined) {
      key = `memory:${nextMemoryKey++}`;
      memoryKeys.set(db, key);
    }
    return key;
  }
  return `file:${databasePath(db)}`;
}

/**
 * @internal The real path of a file database (`'./a.db'`, `'/abs/a.db'` and a symlink to it
 * are one database); undefined for an in-memory one.
 */
export function databasePath(db: Database): string | undefined {
  return db.memory ? undefined : realpathSync(resolve(db.name));
}

/** @internal Adds a listener; returns the function that removes it. */
export function listen(key: string, listener: Listener): () => void {
  let listeners = listenersByDatabase.get(key);
  if (listeners === undefined) {
    listeners = new Set();
    listenersByDatabase.set(key, listeners);
  }
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && listenersByDatabase.get(key) === listeners) {
      listenersByDatabase.delete(key);
    }
  };
}

/**
 * @internal Delivers events to every listener of `key`. Callers announce only after the write
 * committed, so a listener that reacts at once (claims, reads the result) sees the new state.
 * A throwing listener must not turn a committed write into a reported failure, nor starve the
 * other listeners, so its error becomes a process warning.
 */
export function announce(key: string, events: readonly StorageEvent[]): void {
  const listeners = listenersByDatabase.get(key);
  if (listeners !== undefined) deliver(listeners, events);
}

/** @internal Delivers `events` to `listeners` in order, each listener's error a warning. */
export function deliver(listeners: ReadonlySet<Listener>, events: readonly StorageEvent[]): void {
  if (listeners.size === 0 || events.length === 0) return;
  for (const event of events) {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(error instanceof Error ? error : String(error), {
          code: 'RESEOLIO_LISTENER_ERROR',
        });
      }
    }
  }
}
