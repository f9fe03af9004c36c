/**
 * Must-show 2 of issue 16: after 1,000 jobs (some failing once then succeeding, some dying),
 * the counters read by OpenTelemetry's in-memory metric reader equal the database's counts
 * exactly, and the `reseolio.jobs` gauge equals `stats()`.
 */
import { memoryMetrics, points } from '@reseolio/test-utils/otel';
import { currentJob, METRICS, NonRetryableError } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { BACKENDS, engineOn, onCleanup, waitFor } from './helpers.ts';

/** Metric `name`'s points as `label=value,…` (labels sorted) → value. */
function pointsOf(metrics: Parameters<typeof points>[0], name: string): Map<string, unknown> {
  return new Map(
    points(metrics, name).map(({ attributes, value }) => [
      Object.entries(attributes)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      value,
    ]),
  );
}

describe.each(BACKENDS)('metrics on $backend', ({ freshDatabase }) => {
  it('1,000 jobs with failures: counters equal the database, the jobs gauge equals stats()', {
    timeout: 180_000,
  }, async () => {
    const { meterProvider, collect, shutdown } = memoryMetrics();
    onCleanup(shutdown);
    const engine = engineOn(freshDatabase()(), {
      workerConcurrency: 10,
      telemetry: { meterProvider },
    });
    await engine.start();
    const ok = engine.durable('m:ok', async (n: number) => n);
    const flaky = engine.durable('m:flaky', async (n: number) => {
      if (currentJob()!.attempt === 1) throw new Error(`flaky ${n} fails once`);
      return n;
    });
    const doomed = engine.durable('m:doomed', async (n: number) => {
      throw new NonRetryableError(`doomed ${n}`);
    });
    const range = (count: number) => Array.from({ length: count }, (_, i): [number] => [i]);
    await ok.enqueueMany(range(600));
    await flaky.enqueueMany(range(300));
    for (const [n] of range(100)) await doomed(n!); // single calls are counted too
    await ok(0, { idempotencyKey: 'once' });
    await ok(0, { idempotencyKey: 'once' }); // deduplicated: not counted

    await waitFor(
      async () => {
        const { totals } = await engine.stats();
        return totals.pending + totals.running === 0;
      },
      { timeoutMs: 150_000, what: 'every job final' },
    );
    const stats = await engine.stats();
    const resourceMetrics = await collect();

    // What the database says, by function and status (listJobs pages, not stats()).
    const stored = new Map<string, number>();
    for (let offset = 0; ; offset += 1000) {
      const page = await engine.listJobs({ limit: 1000, offset });
      for (const job of page) {
        const key = `${job.name}/${job.status}`;
        stored.set(key, (stored.get(key) ?? 0) + 1);
      }
      if (page.length < 1000) break;
    }
    expect(stored).toEqual(
      new Map([
        ['m:ok/success', 601],
        ['m:flaky/success', 300],
        ['m:doomed/dead', 100],
      ]),
    );

    const enqueued = pointsOf(resourceMetrics, METRICS.enqueued.name);
    expect(enqueued).toEqual(
      new Map([
        ['function=m:ok', 601],
        ['function=m:flaky', 300],
        ['function=m:doomed', 100],
      ]),
    );
    const completed = pointsOf(resourceMetrics, METRICS.completed.name);
    const fromDatabase = new Map(
      [...stored].map(([key, count]) => {
        const [name, status] = key.split('/');
        return [`function=${name},outcome=${status}`, count];
      }),
    );
    expect(completed).toEqual(fromDatabase);

    const attempts = pointsOf(resourceMetrics, METRICS.attemptDuration.name);
    const countOf = (labels: string) => (attempts.get(labels) as { count: number }).count;
    expect(countOf('function=m:flaky,outcome=failure')).toBe(300);
    expect(countOf('function=m:flaky,outcome=success')).toBe(300);
    expect(countOf('function=m:doomed,outcome=failure')).toBe(100);
    expect(countOf('function=m:ok,outcome=success')).toBe(601);
    const lag = pointsOf(resourceMetrics, METRICS.attemptLag.name);
    expect((lag.get('function=m:flaky') as { count: number }).count).toBe(600);

    const gauge = pointsOf(resourceMetrics, METRICS.jobs.name);
    const fromStats = new Map<string, number>();
    for (const fn of stats.functions) {
      for (const [status, count] of Object.entries(fn.counts)) {
        fromStats.set(`function=${fn.name},status=${status}`, count);
      }
    }
    expect(gauge).toEqual(fromStats);
    expect(stats.totals).toMatchObject({ success: 901, dead: 100, pending: 0, running: 0 });
  });
});
