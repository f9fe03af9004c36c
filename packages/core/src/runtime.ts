import { CLOCK_SYNC_INTERVAL_MS, type DatabaseClock } from './database-clock.ts';
import { ReseolioError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import { ResultWaiters } from './result-waiters.ts';
import type { StorageEvent } from './storage/records.ts';
import { resolveStorage } from './storage/resolve-storage.ts';
import type { StorageAdapter } from './storage/storage.ts';

/**
 * What an engine needs once its storage is open: the adapter (migrated), the result waiters
 * fed by its events, and the engine's clock kept in step with the database's.
 */
export interface Runtime {
  readonly storage: StorageAdapter;
  readonly waiters: ResultWaiters;
  /**
   * Stops the clock sync and the subscription, rejects every waiting `result()` with
   * `reason`, and closes storage if the engine opened it (never one it was given).
   */
  close(reason: Error): Promise<void>;
}

export interface RuntimeHooks {
  /** Every storage event, after the waiters have seen `finished` and `resync`. */
  onEvent(event: StorageEvent): void;
  /** A background failure (the periodic clock measurement). */
  onError(error: ReseolioError): void;
}

/**
 * Opens storage for an engine: resolves the `storage` option, migrates, measures the
 * database's clock before anything is stamped, and subscribes to events. When a step fails,
 * whatever the engine opened is closed again and the error is thrown.
 */
export async function openRuntime(
  options: ResolvedOptions,
  clock: DatabaseClock,
  hooks: RuntimeHooks,
): Promise<Runtime> {
  const { adapter, owned } = await resolveStorage(options.storage, options.storageProviders);
  const waiters = new ResultWaiters(adapter, options.pollIntervalMs, options.logger);
  let unsubscribe: () => Promise<void>;
  try {
    await adapter.init();
    // Before anything is stamped: leases and due times must be on the database's clock.
    await clock.sync(adapter);
    unsubscribe = await adapter.subscribe((event) => {
      if (event.type === 'finished') waiters.finished(event.jobId, event.status, event.outcome);
      else if (event.type === 'resync') waiters.resync();
      hooks.onEvent(event);
    });
  } catch (error) {
    // The adapter may have opened a pool or file before failing: nobody else can close it.
    if (owned) await adapter.close().catch(() => {});
    throw error;
  }
  const clockSync = setInterval(() => {
    clock.sync(adapter).catch((error: unknown) => {
      hooks.onError(
        new ReseolioError(
          'RESEOLIO_BACKGROUND_ERROR',
          `measuring the database's clock failed; keeping the last offset (${clock.offsetMs} ms)`,
          { cause: error },
        ),
      );
    });
  }, CLOCK_SYNC_INTERVAL_MS).unref();
  return {
    storage: adapter,
    waiters,
    async close(reason) {
      clearInterval(clockSync);
      waiters.rejectAll(reason);
      await unsubscribe().catch(() => {});
      if (owned) await adapter.close();
    },
  };
}
