import { isDeepStrictEqual } from 'node:util';
import type { StorageAdapter, StorageEvent } from 'reseolio';
import { waitFor } from './wait-for.ts';

type ReadyOrFinished = Exclude<StorageEvent, { type: 'resync' }>;

/** Records the events one subscription receives. */
export interface EventLog {
  /** Every `ready` and `finished` event so far, in arrival order. */
  readonly events: ReadyOrFinished[];
  /** Waits until an event deep-equal to `expected` has arrived. */
  waitFor(expected: ReadyOrFinished): Promise<void>;
  unsubscribe(): Promise<void>;
}

export async function recordEvents(storage: StorageAdapter): Promise<EventLog> {
  const events: ReadyOrFinished[] = [];
  // `resync` may legitimately arrive at any time (a notification connection came back), and
  // says nothing about the writes under test, so it is left out of the log.
  const unsubscribe = await storage.subscribe((event) => {
    if (event.type !== 'resync') events.push(event);
  });
  return {
    events,
    waitFor: (expected) =>
      waitFor(
        () => events.some((e) => isDeepStrictEqual(e, expected)),
        `event ${JSON.stringify(expected)} (got ${JSON.stringify(events)})`,
      ),
    unsubscribe,
  };
}
