import { describe, expect, it } from 'vitest';
import {
  MemoryStorage,
  type MetricsSink,
  NonRetryableError,
  observeMetrics,
  type Reseolio,
  sleep,
} from '../src/index.ts';
import type { NameStats, StatsInput } from '../src/storage/records.ts';
import { makeEngine, waitFor } from './helpers.ts';

/** Every report a sink got, in order. */
function recorder() {
  const reports: string[] = [];
  const lags: number[] = [];
  const durations: number[] = [];
  const sink: MetricsSink = {
    enqueued: (name, count) => reports.push(`enqueued ${name} ${count}`),
    attemptStarted: (name, lag) => {
      lags.push(lag);
      reports.push(`started ${name}`);
    },
    attemptEnded: (name, outcome, duration) => {
      durations.push(duration);
      reports.push(`ended ${name} ${outcome}`);
    },
    completed: (name, outcome) => reports.push(`completed ${name} ${outcome}`),
  };
  return { sink, reports, lags, durations };
}

function observe(engine: Reseolio) {
  const recorded = recorder();
  const remove = engine[observeMetrics]().addSink(recorded.sink);
  return { ...recorded, remove };
}

describe('the metrics source', () => {
  it('counts stored jobs: calls, enqueueMany and schedule runs, not deduplicated calls', async () => {
    const engine = makeEngine({ workerConcurrency: 0 });
    const { reports, remove } = observe(engine);
    const charge = engine.durable('orders:charge', async (n: number) => n);
    await charge(1);
    await charge.enqueue([2], { idempotencyKey: 'k' });
    await charge.enqueue([2], { idempotencyKey: 'k' }); // deduplicated
    await charge.enqueueMany([[3], [4], [5]]);
    await engine.enqueue('by:name', [1]);
    await engine.schedule('nightly', charge, { cron: '0 3 * * *', args: [9] });
    await engine.triggerSchedule('nightly');
    expect(reports).toEqual([
      'enqueued orders:charge 1',
      'enqueued orders:charge 1',
      'enqueued orders:charge 3',
      'enqueued by:name 1',
      'enqueued orders:charge 1',
    ]);
    remove();
    await charge(6);
    expect(reports).toHaveLength(5);
  });

  it('reports attempts with lag and duration, and final outcomes: success, dead, cancelled', async () => {
    const engine = makeEngine({ suspendAfterMs: 10 });
    const { reports, lags, durations } = observe(engine);
    await engine.start();
    let failures = 0;
    const flaky = engine.durable('flaky', async () => {
      failures += 1;
      if (failures === 1) throw new Error('first attempt fails');
      return 'ok';
    });
    const doomed = engine.durable('doomed', async () => {
      throw new NonRetryableError('never');
    });
    const napper = engine.durable('napper', async () => {
      await sleep(50);
      return 'rested';
    });
    const stuck = engine.durable('stuck', () => new Promise(() => {}));
    expect(await (await flaky()).result(5000)).toBe('ok');
    await expect((await doomed()).result(5000)).rejects.toThrow('never');
    expect(await (await napper()).result(5000)).toBe('rested');
    const stuckHandle = await stuck();
    await waitFor(() => reports.includes('started stuck'));
    await stuckHandle.cancel();
    const byName = (name: string) =>
      reports.filter((r) => r.split(' ')[1] === name && !r.startsWith('enqueued'));
    expect(byName('flaky')).toEqual([
      'started flaky',
      'ended flaky failure',
      'started flaky',
      'ended flaky success',
      'completed flaky success',
    ]);
    expect(byName('doomed')).toEqual([
      'started doomed',
      'ended doomed failure',
      'completed doomed dead',
    ]);
    expect(byName('napper')).toEqual([
      'started napper',
      'ended napper suspended',
      'started napper',
      'ended napper success',
      'completed napper success',
    ]);
    expect(byName('stuck')).toEqual(['started stuck', 'completed stuck cancelled']);
    expect(lags.every((lag) => lag >= 0)).toBe(true);
    // The retry and the wake-up were due in the past when they started: some lag is recorded.
    expect(durations.every((d) => d >= 0)).toBe(true);
  });

  it('counts jobs its sweep of expired leases ends as dead, whoever ran them', async () => {
    const storage = new MemoryStorage();
    const past = Date.now() - 60_000;
    await storage.enqueue({
      id: '0190a000-0000-7000-8000-000000000001',
      name: 'ghost:job',
      args: '[]',
      policy: '[]',
      maxAttempts: 1,
      idempotencyKey: null,
      parentId: null,
      scheduleId: null,
      traceContext: null,
      priority: 0,
      concurrencyKey: null,
      rateLimitKey: null,
      createdAt: past,
      runAt: past,
    });
    await storage.claim({
      names: ['ghost:job'],
      ownerId: 'a dead process',
      leaseToken: 'token',
      limit: 1,
      now: past,
      leaseExpiresAt: past + 1000,
    });
    const engine = makeEngine({ storage });
    const { reports } = observe(engine);
    engine.durable('other', async () => {});
    await engine.start();
    await waitFor(() => reports.includes('completed ghost:job dead'));
  });

  it('a sink that throws is logged once and breaks nothing', async () => {
    const errors: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) };
    const engine = makeEngine({ logger });
    const { reports } = observe(engine);
    engine[observeMetrics]().addSink({
      enqueued: () => {
        throw new Error('broken sink');
      },
      attemptStarted: () => {},
      attemptEnded: () => {},
      completed: () => {},
    });
    await engine.start();
    const ok = engine.durable('ok', async () => 1);
    expect(await (await ok()).result(5000)).toBe(1);
    expect(await (await ok()).result(5000)).toBe(1);
    expect(reports.filter((r) => r.startsWith('completed'))).toHaveLength(2);
    expect(errors).toHaveLength(1);
  });

  it("gives this process's worker: slots, busy slots, last round trip to storage", async () => {
    const engine = makeEngine({ workerConcurrency: 3 });
    const source = engine[observeMetrics]();
    expect(source.worker()).toEqual({ slots: 0, busy: 0, lastSeenAt: null });
    await engine.start();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: string[] = [];
    const held = engine.durable('held', async () => {
      started.push('held');
      await gate;
    });
    const handle = await held();
    await waitFor(() => started.length === 1);
    const busy = source.worker();
    expect(busy.slots).toBe(3);
    expect(busy.busy).toBe(1);
    expect(busy.lastSeenAt).toEqual(expect.any(Number));
    release();
    await handle.result(5000);
    await waitFor(() => source.worker().busy === 0);
  });
});

describe('reseolio.stats()', () => {
  it("turns storage's aggregate read into counts per function, totals and ages", async () => {
    let asked: StatsInput | undefined;
    class CountingStorage extends MemoryStorage {
      override async stats(input: StatsInput): Promise<NameStats[]> {
        asked = input;
        const zero = { pending: 0, running: 0, waiting: 0, success: 0, dead: 0, cancelled: 0 };
        return [
          {
            name: 'a',
            counts: { ...zero, pending: 2, success: 5 },
            oldestDueRunAt: input.now - 1500,
          },
          { name: 'b', counts: { ...zero, dead: 1 }, oldestDueRunAt: null },
        ];
      }
    }
    const engine = makeEngine({ storage: new CountingStorage(), workerConcurrency: 0 });
    const stats = await engine.stats();
    expect(asked?.now).toBe(stats.at.getTime());
    expect(stats.functions).toEqual([
      {
        name: 'a',
        counts: { pending: 2, running: 0, waiting: 0, success: 5, dead: 0, cancelled: 0 },
        oldestPendingAgeMs: 1500,
      },
      {
        name: 'b',
        counts: { pending: 0, running: 0, waiting: 0, success: 0, dead: 1, cancelled: 0 },
        oldestPendingAgeMs: null,
      },
    ]);
    expect(stats.totals).toEqual({
      pending: 2,
      running: 0,
      waiting: 0,
      success: 5,
      dead: 1,
      cancelled: 0,
    });
  });
});
