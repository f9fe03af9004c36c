import { isDeepStrictEqual } from 'node:util';
import { waitFor } from '@reseolio/test-utils';
import type { JobOutcome, StorageAdapter, StorageEvent } from 'reseolio/storage';

type ReadyOrFinished = Exclude<StorageEvent, { type: 'resync' }>;

/** Records the events one subscription receives. */
export interface EventLog {
  /**
   * Every `ready`, `finished` and `progress` event so far, in arrival order, without the optional
   * `outcome` of finished events (adapters may or may not send one; see `outcomes`).
   */
  readonly events: ReadyOrFinished[];
  /** The `outcome` finished events carried, by job id. */
  readonly outcomes: Map<string, JobOutcome>;
  /** Waits until an event deep-equal to `expected` has arrived. */
  waitFor(expected: ReadyOrFinished): Promise<void>;
  unsubscribe(): Promise<void>;
}

export async function recordEvents(storage: StorageAdapter): Promise<EventLog> {
  const events: ReadyOrFinished[] = [];
  const outcomes = new Map<string, JobOutcome>();
  // `resync` may legitimately arrive at any time (a notification connection came back), and
  // says nothing about the writes under test, so it is left out of the log.
  const unsubscribe = await storage.subscribe((event) => {
    if (event.type === 'resync') return;
    if (event.type === 'finished' && event.outcome !== undefined) {
      const { outcome, ...rest } = event;
      outcomes.set(event.jobId, outcome);
      events.push(rest);
    } else {
      events.push(event);
    }
  });
  return {
    events,
    outcomes,
    waitFor: (expected) =>
      waitFor(() => events.some((e) => isDeepStrictEqual(e, expected)), {
        timeoutMs: 5_000,
        what: () => `event ${JSON.stringify(expected)} (got ${JSON.stringify(events)})`,
      }).then(() => {}),
    unsubscribe,
  };
}
