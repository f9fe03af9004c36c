import type { MeterProvider } from '@opentelemetry/api';
import { memoryMetrics, points } from '@reseolio/test-utils/otel';
import { describe, expect, it } from 'vitest';
import { currentJob, MemoryStorage, NonRetryableError } from '../src/index.ts';
import type { NameStats, StatsInput } from '../src/storage/records.ts';
import { METRICS } from '../src/telemetry/metric-names.ts';
import { OtelMetrics } from '../src/telemetry/otel-metrics.ts';
import type { ReseolioStats } from '../src/telemetry/stats.ts';
import { makeEngine, waitFor } from './helpers.ts';

/** MemoryStorage that counts its stats reads and can be made to fail them. */
class ObservedStorage extends MemoryStorage {
  reads = 0;
  failing = false;
  override async stats(input: StatsInput): Promise<NameStats[]> {
    this.reads += 1;
    if (this.failing) throw new Error('database unreachable');
    return super.stats(input);
  }
}

describe('the meter reseolio', () => {
  it('counts enqueued and completed jobs, attempts, and reads gauges from one stats() per collection', async () => {
    const metrics = memoryMetrics();
    const storage = new ObservedStorage();
    const engine = makeEngine({
      storage,
      workerConcurrency: 4,
      telemetry: { meterProvider: metrics.meterProvider },
    });
    await engine.start();
    const flaky = engine.durable('flaky', async () => {
      if (currentJob()!.attempt === 1) throw new Error('once');
      return 1;
    });
    const doomed = engine.durable('doomed', async () => {
      throw new NonRetryableError('no');
    });
    const waiting = engine.durable('waiting', () => new Promise(() => {}));
    const results = await Promise.all([flaky(), flaky(), doomed()]);
    await Promise.allSettled(results.map((h) => h.result(5000)));
    const stuck = await waiting.enqueue([], { delayMs: 60_000 });
    await stuck.cancel();
    await engine.enqueue('elsewhere', []); // registered nowhere: stays pending

    const readsBefore = storage.reads;
    const collected = await metrics.collect();
    expect(storage.reads).toBe(readsBefore + 1);
    const enqueued = points(collected, METRICS.enqueued.name);
    expect(enqueued).toEqual(
      expect.arrayContaining([
        { attributes: { function: 'flaky' }, value: 2 },
        { attributes: { function: 'doomed' }, value: 1 },
        { attributes: { function: 'waiting' }, value: 1 },
        { attributes: { function: 'elsewhere' }, value: 1 },
      ]),
    );
    expect(enqueued).toHaveLength(4);
    expect(points(collected, METRICS.completed.name)).toEqual(
      expect.arrayContaining([
        { attributes: { function: 'flaky', outcome: 'success' }, value: 2 },
        { attributes: { function: 'doomed', outcome: 'dead' }, value: 1 },
        { attributes: { function: 'waiting', outcome: 'cancelled' }, value: 1 },
      ]),
    );
    const durations = points(collected, METRICS.attemptDuration.name);
    const countOf = (attributes: object) =>
      (
        durations.find((p) => JSON.stringify(p.attributes) === JSON.stringify(attributes))?.value as
          | { count: number }
          | undefined
      )?.count;
    expect(countOf({ function: 'flaky', outcome: 'failure' })).toBe(2);
    expect(countOf({ function: 'flaky', outcome: 'success' })).toBe(2);
    expect(countOf({ function: 'doomed', outcome: 'failure' })).toBe(1);
    const lag = points(collected, METRICS.attemptLag.name);
    const flakyLag = lag.find((p) => p.attributes.function === 'flaky')!;
    expect((flakyLag.value as { count: number }).count).toBe(4);

    const stats = await engine.stats();
    const gauge = points(collected, METRICS.jobs.name);
    for (const fn of stats.functions) {
      for (const [status, count] of Object.entries(fn.counts)) {
        expect(gauge).toContainEqual({ attributes: { function: fn.name, status }, value: count });
      }
    }
    expect(gauge).toHaveLength(stats.functions.length * 6);
    const oldest = points(collected, METRICS.oldestPendingAge.name);
    expect(oldest.find((p) => p.attributes.function === 'elsewhere')?.value).toBeGreaterThanOrEqual(
      0,
    );
    expect(oldest.find((p) => p.attributes.function === 'flaky')?.value).toBe(0);
    expect(points(collected, METRICS.workerSlots.name)).toEqual(
      expect.arrayContaining([
        { attributes: { state: 'busy' }, value: 0 },
        { attributes: { state: 'free' }, value: 4 },
      ]),
    );
    const [lastSeen] = points(collected, METRICS.workerLastSeen.name);
    expect(lastSeen!.value).toBeGreaterThan(Date.now() / 1000 - 3600);

    await engine.stop();
    const readsAtStop = storage.reads;
    await metrics.collect();
    expect(storage.reads).toBe(readsAtStop);
    await metrics.shutdown();
  });

  it('a failing stats read leaves the job gauges out, never fails the collection, and is logged once', async () => {
    const metrics = memoryMetrics();
    const storage = new ObservedStorage();
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) };
    const engine = makeEngine({
      storage,
      logger,
      telemetry: { meterProvider: metrics.meterProvider },
    });
    await engine.init();
    storage.failing = true;
    const first = await metrics.collect();
    await metrics.collect();
    expect(points(first, METRICS.jobs.name)).toEqual([]);
    expect(points(first, METRICS.workerSlots.name)).toHaveLength(2);
    expect(errors).toEqual(['reading job counts for the reseolio.jobs gauges failed']);
    storage.failing = false;
    await engine.durable('x', async () => {})();
    await waitFor(async () => points(await metrics.collect(), METRICS.jobs.name).length === 6);
    await metrics.shutdown();
  });

  it("keeps the last counts for the app's final flush after the engine stopped", async () => {
    // An app stops the engine, then shuts its SDK down (the last export). Counts kept only in
    // a callback the stopping engine removes would miss that export.
    const metrics = memoryMetrics();
    const engine = makeEngine({ telemetry: { meterProvider: metrics.meterProvider } });
    await engine.start();
    const fn = engine.durable('last', async () => 1);
    await (await fn()).result(5000);
    await engine.stop();
    const collected = await metrics.collect();
    expect(points(collected, METRICS.enqueued.name)).toEqual([
      { attributes: { function: 'last' }, value: 1 },
    ]);
    expect(points(collected, METRICS.completed.name)).toEqual([
      { attributes: { function: 'last', outcome: 'success' }, value: 1 },
    ]);
  });
});

describe('OtelMetrics completions', () => {
  /** A meter that records every counter call, so the calls themselves can be counted. */
  function recordingMeter() {
    const adds: { counter: string; value: number; attributes: unknown }[] = [];
    const meter = {
      createCounter: (counter: string) => ({
        add: (value: number, attributes: unknown) => adds.push({ counter, value, attributes }),
      }),
      createHistogram: () => ({ record() {} }),
      createObservableGauge: () => ({}),
      addBatchObservableCallback() {},
      removeBatchObservableCallback() {},
    };
    const sink = new OtelMetrics({
      meterProvider: { getMeter: () => meter } as unknown as MeterProvider,
      source: {
        addSink: () => () => {},
        worker: () => ({ slots: 0, busy: 0, lastSeenAt: null }),
      },
      stats: async () => ({ functions: [] }) as unknown as ReseolioStats,
      logger: console,
    });
    const completed = () => adds.filter((add) => add.counter === METRICS.completed.name);
    return { sink, completed };
  }

  it('adds the completions of one tick once per label set', async () => {
    const { sink, completed } = recordingMeter();
    for (let i = 0; i < 3; i++) sink.completed('a', 'success');
    sink.completed('a', 'dead');
    sink.completed('b', 'success');
    expect(completed()).toEqual([]);
    await Promise.resolve();
    expect(completed()).toEqual([
      {
        counter: METRICS.completed.name,
        value: 3,
        attributes: { function: 'a', outcome: 'success' },
      },
      { counter: METRICS.completed.name, value: 1, attributes: { function: 'a', outcome: 'dead' } },
      {
        counter: METRICS.completed.name,
        value: 1,
        attributes: { function: 'b', outcome: 'success' },
      },
    ]);
    sink.completed('a', 'success');
    await Promise.resolve();
    expect(completed()).toHaveLength(4);
    expect(completed()[3]!.value).toBe(1);
  });

  it('adds what is still counted when it closes', () => {
    const { sink, completed } = recordingMeter();
    sink.completed('a', 'success');
    sink.close();
    expect(completed()).toEqual([
      {
        counter: METRICS.completed.name,
        value: 1,
        attributes: { function: 'a', outcome: 'success' },
      },
    ]);
  });
});
