import type { Engine } from '../engines/types.ts';
import { type OpenOptions, payload } from '../engines/types.ts';
import { nowMs, waitUntil } from '../stats.ts';
import type { Measurement } from './types.ts';

/** How jobs are registered and keyed for a drain; by default unlimited and without keys. */
export interface DrainShape {
  flow?: OpenOptions['flow'];
  /** Keys given to the jobs in turn (`key-0`, `key-1`, …); none when 0. */
  keys?: number;
}

/** Bulk-enqueues `jobs` no-op jobs with no worker running. */
export async function fill(engine: Engine, jobs: number, shape: DrainShape = {}): Promise<void> {
  const producer = await engine.open({ concurrency: 0, flow: shape.flow });
  try {
    const keys = shape.keys ?? 0;
    await producer.enqueueBulk(
      Array.from({ length: jobs }, (_, i) =>
        keys > 0 ? { ...payload(), key: `key-${i % keys}` } : payload(),
      ),
    );
  } finally {
    await producer.close();
  }
}

/**
 * Fills the queue, then starts workers at `concurrency` and times from the first handler
 * start (engine start-up is not counted) until every job is finished in the database.
 * A drain that outlives `capMs` reports the rate reached so far, flagged `capped`.
 * `afterFill` runs between the two, untimed (the `otel` metric settles the heap there).
 * `cpuUsPerJob` is this process's CPU time (user and system) per job over the drain.
 */
export async function drain(
  engine: Engine,
  jobs: number,
  concurrency: number,
  capMs: number,
  shape: DrainShape = {},
  afterFill?: () => Promise<void>,
): Promise<Measurement> {
  await fill(engine, jobs, shape);
  await afterFill?.();
  let first: number | undefined;
  let ran = 0;
  const session = await engine.open({
    concurrency,
    flow: shape.flow,
    handler: () => {
      first ??= nowMs();
      ran += 1;
    },
  });
  try {
    const openedAt = nowMs();
    const cpuAtOpen = process.cpuUsage();
    const allRan = await waitUntil(() => ran >= jobs, capMs);
    const finished =
      allRan && (await waitUntil(async () => (await engine.unfinished()) === 0, capMs, 5));
    const end = nowMs();
    const cpu = process.cpuUsage(cpuAtOpen);
    const elapsed = (end - (first ?? openedAt)) / 1000;
    const done = finished ? jobs : ran;
    return {
      rate: done / elapsed,
      // From the session's opening, so it includes the engine's start-up: a few ms in seconds.
      cpuUsPerJob: (cpu.user + cpu.system) / done,
      capped: finished ? 0 : 1,
    };
  } finally {
    await session.close();
  }
}
