import { describe, expect, it, vi } from 'vitest';
import {
  createMetricsRouteHandler,
  DEFAULT_METRICS_PATH,
  IntegrationConfigError,
  type MetricsEngine,
  PrometheusExporter,
  resolveMetricsOptions,
} from '../src/http/index.ts';
import { METRICS, observeMetrics, StorageError } from '../src/index.ts';
import type { MetricsSink, WorkerSnapshot } from '../src/telemetry/metrics-sink.ts';
import type { ReseolioStats } from '../src/telemetry/stats.ts';

/** Stats with one function, `counts` over all-zero statuses. */
function statsOf(name: string, counts: Partial<ReseolioStats['totals']>, ageMs: number | null) {
  const zero = { pending: 0, running: 0, waiting: 0, success: 0, dead: 0, cancelled: 0 };
  return {
    at: new Date(),
    functions: [{ name, counts: { ...zero, ...counts }, oldestPendingAgeMs: ageMs }],
    totals: { ...zero, ...counts },
  } satisfies ReseolioStats;
}

/** An engine whose sink, worker and stats reads the test drives by hand. */
function fakeEngine() {
  const sinks = new Set<MetricsSink>();
  const worker: WorkerSnapshot = { slots: 4, busy: 1, lastSeenAt: null };
  let nextStats: () => Promise<ReseolioStats> = async () => statsOf('mail', { pending: 2 }, 1500);
  const engine = {
    stats: vi.fn(() => nextStats()),
    [observeMetrics]: () => ({
      addSink: (sink: MetricsSink) => {
        sinks.add(sink);
        return () => sinks.delete(sink);
      },
      worker: () => ({ ...worker }),
    }),
  } satisfies MetricsEngine;
  const report = (call: (sink: MetricsSink) => void) => {
    for (const sink of sinks) call(sink);
  };
  return {
    engine,
    sinks,
    worker,
    report,
    setStats: (read: () => Promise<ReseolioStats>) => {
      nextStats = read;
    },
  };
}

function line(text: string, start: string): string | undefined {
  return text.split('\n').find((l) => l.startsWith(start));
}

describe('PrometheusExporter', () => {
  it('keeps what the engine reports before prom-client has loaded, and counts it once', async () => {
    const { engine, report } = fakeEngine();
    const exporter = new PrometheusExporter(engine);
    // Synchronously after construction: prom-client cannot have loaded yet.
    report((sink) => sink.enqueued('mail', 3));
    report((sink) => sink.completed('mail', 'dead'));
    const { text } = await exporter.render();
    report((sink) => sink.enqueued('mail', 1));
    const again = (await exporter.render()).text;
    expect(line(text, 'reseolio_jobs_enqueued_total{')).toBe(
      'reseolio_jobs_enqueued_total{function="mail"} 3',
    );
    expect(line(again, 'reseolio_jobs_enqueued_total{')).toBe(
      'reseolio_jobs_enqueued_total{function="mail"} 4',
    );
    expect(line(again, 'reseolio_jobs_completed_total{')).toBe(
      'reseolio_jobs_completed_total{function="mail",outcome="dead"} 1',
    );
  });

  it('observes attempts into the histograms, in seconds', async () => {
    const { engine, report } = fakeEngine();
    const exporter = new PrometheusExporter(engine);
    report((sink) => sink.attemptStarted('mail', 0.02));
    report((sink) => sink.attemptEnded('mail', 'failure', 0.3));
    const { text } = await exporter.render();
    expect(text).toContain('reseolio_attempt_lag_seconds_bucket{le="0.025",function="mail"} 1');
    expect(text).toContain('reseolio_attempt_lag_seconds_bucket{le="0.01",function="mail"} 0');
    expect(text).toContain(
      'reseolio_attempt_duration_seconds_bucket{le="0.5",function="mail",outcome="failure"} 1',
    );
    expect(text).toContain(
      'reseolio_attempt_duration_seconds_sum{function="mail",outcome="failure"} 0.3',
    );
  });

  it('reads the job gauges with one stats() shared by concurrent scrapes, fresh for the next', async () => {
    const { engine, setStats } = fakeEngine();
    const exporter = new PrometheusExporter(engine);
    let release!: (stats: ReseolioStats) => void;
    setStats(() => new Promise((resolve) => (release = resolve)));
    const scrapes = [exporter.render(), exporter.render(), exporter.render()];
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    release(statsOf('mail', { pending: 2, dead: 1 }, 1500));
    const texts = (await Promise.all(scrapes)).map((s) => s.text);
    expect(engine.stats).toHaveBeenCalledTimes(1);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toContain('reseolio_jobs{function="mail",status="pending"} 2');
    expect(texts[0]).toContain('reseolio_jobs{function="mail",status="running"} 0');
    expect(texts[0]).toContain('reseolio_jobs_oldest_pending_age_seconds{function="mail"} 1.5');

    // A function whose jobs are gone disappears; none pending reads 0.
    setStats(async () => statsOf('sms', { success: 1 }, null));
    const { text } = await exporter.render();
    expect(engine.stats).toHaveBeenCalledTimes(2);
    expect(text).not.toContain('function="mail"');
    expect(text).toContain('reseolio_jobs_oldest_pending_age_seconds{function="sms"} 0');
  });

  it('shows worker slots, and the heartbeat gauge only once the worker has reached storage', async () => {
    const { engine, worker } = fakeEngine();
    const exporter = new PrometheusExporter(engine);
    const before = (await exporter.render()).text;
    expect(before).toContain('reseolio_worker_slots{state="busy"} 1');
    expect(before).toContain('reseolio_worker_slots{state="free"} 3');
    expect(before).not.toContain(METRICS.workerLastSeen.prometheus);
    worker.lastSeenAt = 1_796_000_000_500;
    const after = (await exporter.render()).text;
    expect(line(after, 'reseolio_worker_last_seen_seconds ')).toBe(
      'reseolio_worker_last_seen_seconds 1796000000.5',
    );
  });

  it('serves process metrics only when asked, on its own registry', async () => {
    const without = (await new PrometheusExporter(fakeEngine().engine).render()).text;
    expect(without).not.toContain('process_cpu');
    const withProcess = new PrometheusExporter(fakeEngine().engine, { processMetrics: true });
    expect((await withProcess.render()).text).toContain('process_cpu_user_seconds_total');
    const prom = await import('prom-client');
    expect(await prom.register.getSingleMetric(METRICS.jobs.prometheus)).toBeUndefined();
  });

  it('stops listening to the engine on close', () => {
    const { engine, sinks } = fakeEngine();
    const exporter = new PrometheusExporter(engine);
    expect(sinks.size).toBe(1);
    exporter.close();
    expect(sinks.size).toBe(0);
  });
});

describe('the metrics route handler', () => {
  const log = { debug() {}, info() {}, warn() {}, error: vi.fn() };

  it('answers the text after authorize, 403 when refused, 503 logged when the stats read fails', async () => {
    const { engine, setStats } = fakeEngine();
    const handle = createMetricsRouteHandler(new PrometheusExporter(engine), {
      authorize: (request: { admin: boolean }) => request.admin,
    });
    expect(await handle({ request: { admin: false }, log })).toMatchObject({ status: 403 });
    expect(engine.stats).not.toHaveBeenCalled();
    const ok = await handle({ request: { admin: true }, log });
    expect(ok).toMatchObject({ status: 200, contentType: expect.stringContaining('0.0.4') });
    const failure = new StorageError('pg down at 10.0.0.7', { operation: 'stats' });
    setStats(() => Promise.reject(failure));
    const down = await handle({ request: { admin: true }, log });
    expect(down).toMatchObject({ status: 503, body: { error: { code: 'RESEOLIO_STORAGE' } } });
    expect(JSON.stringify(down)).not.toContain('10.0.0.7');
    expect(log.error).toHaveBeenCalledWith(expect.stringContaining('metrics'), failure);
  });
});

describe('the metrics option', () => {
  const admin = () => true;

  it('takes true, a path or an object, at /metrics by default', () => {
    expect(resolveMetricsOptions(true, 'metrics', { inherited: admin })).toEqual({
      path: DEFAULT_METRICS_PATH,
      authorize: admin,
      processMetrics: false,
    });
    expect(resolveMetricsOptions('/ops/metrics', 'metrics', { inherited: admin })?.path).toBe(
      '/ops/metrics',
    );
    expect(resolveMetricsOptions(undefined, 'metrics')).toBeNull();
    expect(resolveMetricsOptions(false, 'metrics')).toBeNull();
  });

  it("is behind the job routes' authorize unless it has its own, or is public", () => {
    const own = () => false;
    expect(resolveMetricsOptions(true, 'm', { inherited: admin })?.authorize).toBe(admin);
    expect(resolveMetricsOptions(true, 'm', { inherited: null })?.authorize).toBeNull();
    expect(resolveMetricsOptions({ authorize: own }, 'm', { inherited: admin })?.authorize).toBe(
      own,
    );
    expect(
      resolveMetricsOptions({ public: true }, 'm', { inherited: admin })?.authorize,
    ).toBeNull();
  });

  it('refuses to be open by accident, and names every mistake', () => {
    const cases: [unknown, { inherited?: typeof admin; withPath?: boolean }, RegExp][] = [
      [true, {}, /metrics route shows which functions run.*metrics\.authorize/],
      [{ path: '/m' }, {}, /give metrics\.authorize/],
      ['metrics', { inherited: admin }, /metrics\.path must be a path starting with "\/"/],
      [42, { inherited: admin }, /must be true, a path such as '\/metrics', or an object/],
      [{ public: false }, {}, /public only accepts true/],
      [{ public: true, authorize: admin }, {}, /either metrics\.authorize or public: true/],
      [{ processMetrics: 'yes', public: true }, {}, /processMetrics must be true or false/],
      [{ prefix: '/x', public: true }, {}, /takes no prefix/],
      [{ path: '/m', public: true }, { withPath: false }, /takes no path.*app\.use\('\/metrics'/],
      [true, { withPath: false }, /must be an object/],
    ];
    for (const [option, context, message] of cases) {
      expect(() => resolveMetricsOptions(option, 'metrics', context), String(message)).toThrow(
        IntegrationConfigError,
      );
      expect(() => resolveMetricsOptions(option, 'metrics', context)).toThrow(message);
    }
  });
});
