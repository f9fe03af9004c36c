/// <reference path="../parse-prometheus-text-format.d.ts" />
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { METRICS } from 'reseolio';
import { JOB_STATUSES, STORAGE_UNAVAILABLE_MESSAGE } from 'reseolio/http';
import { expect, it } from 'vitest';
import { ADMIN, adminOnly, FailingStorage, logged } from '../fixtures.ts';
import type { MetricsBoot } from '../harness.ts';
import type { SuiteContext } from '../run-http-conformance.ts';

/** `metrics: true` beside the job routes: `/metrics`, behind their `authorize`. */
const BEHIND_ROUTES: MetricsBoot = { option: true, path: '/metrics', access: adminOnly };

/** GET the metrics: status, content type and body text. */
async function scrape(base: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { headers });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text: await response.text(),
  };
}

/** The value of the sample of `family` whose labels are exactly `labels`. */
function sample(families: PrometheusFamily[], name: string, labels: Record<string, string>) {
  const family = families.find((f) => f.name === name);
  const match = family?.metrics.find(
    (m) => JSON.stringify(sorted(m.labels ?? {})) === JSON.stringify(sorted(labels)),
  );
  return match?.value === undefined ? undefined : Number(match.value);
}

/**
 * A histogram's `_count` per label set, read from its sample lines: the parser folds the
 * buckets of all label sets of one histogram into one (it follows prom2json's unlabelled
 * shape), so the per-series counts are taken from the text it accepted.
 */
function histogramCounts(text: string, name: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [, labels, value] of text.matchAll(
    new RegExp(`^${name}_count\\{(.*)\\} (\\S+)$`, 'gm'),
  )) {
    const pairs = [...labels!.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => `${k}=${v}`);
    counts[pairs.sort().join(',')] = Number(value);
  }
  return counts;
}

/** A content type's media type and parameters, parameter order aside. */
function mediaType(header: string | null) {
  const [type, ...params] = (header ?? '').split(';').map((part) => part.trim());
  return {
    type,
    params: Object.fromEntries(params.map((param) => param.split('=') as [string, string])),
  };
}

function sorted(labels: Record<string, string>): [string, string][] {
  return Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
}

export function metricsSuite({ serve }: SuiteContext): void {
  it('serves Prometheus text a parser accepts, with every documented metric and label, and counters that match what ran', async () => {
    const { base, engine, echo, failing, held, hold } = await serve(adminOnly, {
      metrics: BEHIND_ROUTES,
    });
    for (const value of [1, 2, 3]) await (await echo(value)).result(5000);
    for (let i = 0; i < 2; i += 1) await (await failing()).result(5000).catch(() => {});
    const delayed = await echo.enqueue([4], { delayMs: 3_600_000 });
    await delayed.cancel();
    const running = await held();
    const started = new Promise<void>((resolve) => {
      engine.on('job:start', (job) => {
        if (job.id === running.jobId) resolve();
      });
    });
    if ((await running.status()) !== 'running') await started;

    const response = await scrape(base, '/metrics', ADMIN);
    expect(response.status).toBe(200);
    // Parameters in any order: Express's `send` rewrites the header as `charset=…; version=…`.
    expect(mediaType(response.contentType)).toEqual({
      type: 'text/plain',
      params: { charset: 'utf-8', version: '0.0.4' },
    });
    const families = parsePrometheusTextFormat(response.text);
    for (const metric of Object.values(METRICS)) {
      const family = families.find((f) => f.name === metric.prometheus);
      expect(family, metric.prometheus).toMatchObject({
        type: metric.kind.toUpperCase(),
        help: metric.description,
      });
      // Every series carries exactly the documented labels.
      const labelSets =
        metric.kind === 'histogram'
          ? Object.keys(histogramCounts(response.text, metric.prometheus)).map((key) =>
              key.split(',').map((pair) => pair.split('=')[0]),
            )
          : family!.metrics.map((m) => Object.keys(m.labels ?? {}).sort());
      expect(labelSets.length, metric.prometheus).toBeGreaterThan(0);
      for (const labels of labelSets)
        expect(labels, metric.prometheus).toEqual([...metric.labels].sort());
    }
    const { enqueued, completed, attemptDuration, attemptLag, jobs, workerSlots } = METRICS;
    expect(sample(families, enqueued.prometheus, { function: 'echo' })).toBe(4);
    expect(sample(families, enqueued.prometheus, { function: 'failing' })).toBe(2);
    expect(sample(families, enqueued.prometheus, { function: 'held' })).toBe(1);
    const done = (fn: string, outcome: string) =>
      sample(families, completed.prometheus, { function: fn, outcome });
    expect(done('echo', 'success')).toBe(3);
    expect(done('echo', 'cancelled')).toBe(1);
    expect(done('failing', 'dead')).toBe(2);
    expect(histogramCounts(response.text, attemptDuration.prometheus)).toEqual({
      'function=echo,outcome=success': 3,
      'function=failing,outcome=failure': 2,
    });
    expect(histogramCounts(response.text, attemptLag.prometheus)).toEqual({
      'function=echo': 3,
      'function=failing': 1 + 1,
      'function=held': 1,
    });
    // Every status of every function is present, 0 included.
    const counts = Object.fromEntries(
      ['echo', 'failing', 'held'].map((fn) => [
        fn,
        Object.fromEntries(
          JOB_STATUSES.map((status) => [
            status,
            sample(families, jobs.prometheus, { function: fn, status }),
          ]),
        ),
      ]),
    );
    expect(counts.echo).toMatchObject({ success: 3, cancelled: 1, pending: 0, dead: 0 });
    expect(counts.failing).toMatchObject({ dead: 2, success: 0, running: 0 });
    expect(counts.held).toMatchObject({ running: 1, pending: 0, success: 0 });
    for (const fn of ['echo', 'failing', 'held']) {
      expect(sample(families, METRICS.oldestPendingAge.prometheus, { function: fn })).toBe(0);
    }
    expect(sample(families, workerSlots.prometheus, { state: 'busy' })).toBe(1);
    expect(sample(families, workerSlots.prometheus, { state: 'free' })).toBeGreaterThanOrEqual(0);
    const lastSeen = sample(families, METRICS.workerLastSeen.prometheus, {});
    expect(lastSeen).toBeGreaterThan(Date.now() / 1000 - 3600);
    expect(lastSeen).toBeLessThanOrEqual(Date.now() / 1000 + 60);
    hold.open();
    await running.result(5000);
  });

  it('refuses unauthorised scrapes with 401/403 as the job routes do, and shows no metric', async () => {
    const { call, echo } = await serve(adminOnly, { metrics: BEHIND_ROUTES });
    await (await echo('card-4242')).result(5000);
    expect(await call('GET', '/metrics')).toEqual({
      status: 401,
      body: { error: { code: 'RESEOLIO_UNAUTHENTICATED', message: 'Authentication is required.' } },
    });
    const wrong = await call('GET', '/metrics', { authorization: 'Bearer guest' });
    expect(wrong).toEqual({
      status: 403,
      body: {
        error: { code: 'RESEOLIO_FORBIDDEN', message: 'You are not allowed to access jobs.' },
      },
    });
  });

  it('serves public metrics without authorize while the job routes stay behind theirs', async () => {
    const { base, call } = await serve(adminOnly, {
      metrics: { option: { public: true }, path: '/metrics', access: { public: true } },
    });
    const response = await scrape(base, '/metrics');
    expect(response.status).toBe(200);
    expect(parsePrometheusTextFormat(response.text).map((f) => f.name)).toContain(
      METRICS.workerSlots.prometheus,
    );
    expect((await call('GET', '/jobs')).status).toBe(401);
  });

  it('serves a custom path only', async () => {
    const { base } = await serve(adminOnly, {
      metrics: { option: '/ops/prometheus', path: '/ops/prometheus', access: adminOnly },
    });
    expect((await scrape(base, '/ops/prometheus', ADMIN)).status).toBe(200);
    expect((await scrape(base, '/metrics', ADMIN)).status).toBe(404);
  });

  it('answers 503 when the stats read fails, logs the cause and sends none of it', async () => {
    const storage = new FailingStorage();
    const { call, logs } = await serve(adminOnly, { storage, metrics: BEHIND_ROUTES });
    expect(await call('GET', '/metrics', ADMIN)).toEqual({
      status: 503,
      body: { error: { code: 'RESEOLIO_STORAGE', message: STORAGE_UNAVAILABLE_MESSAGE } },
    });
    expect(logged(logs, 'error', 'SQLITE_IOERR_READ')).not.toHaveLength(0);
  });
}
