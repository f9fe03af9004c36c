import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@reseolio/test-utils';
import { describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../src/services/faults.ts';
import { onCleanup, settledOrder, startShop, tempSqliteFile } from './helpers.ts';

// `OTEL_EXPORTER_OTLP_ENDPOINT=… pnpm demo`: the built shop (dist/main.js, as the crash drill
// runs it) sends its traces and metrics to a collector. Here the collector is a small
// OTLP/HTTP receiver that keeps what it is sent (the HTTP exporters post OTLP JSON).

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  readonly metricNames = new Set<string>();
  #server: Server | undefined;

  async start(): Promise<string> {
    this.#server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const payload = JSON.parse(body || '{}');
        if (request.url === '/v1/traces') this.#keepSpans(payload);
        if (request.url === '/v1/metrics') this.#keepMetrics(payload);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => this.#server!.close(() => resolve())));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  #keepSpans(payload: { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] }): void {
    for (const resource of payload.resourceSpans ?? [])
      for (const scope of resource.scopeSpans ?? []) this.spans.push(...(scope.spans ?? []));
  }

  #keepMetrics(payload: {
    resourceMetrics?: { scopeMetrics?: { metrics?: { name: string }[] }[] }[];
  }): void {
    for (const resource of payload.resourceMetrics ?? [])
      for (const scope of resource.scopeMetrics ?? [])
        for (const metric of scope.metrics ?? []) this.metricNames.add(metric.name);
  }
}

describe('the demo with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it('sends one trace per checkout saga, and the engine metrics, to the collector', async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        DATABASE_URL: '',
        SQLITE_FILE: tempSqliteFile(),
        PORT: String(port),
        QUIET: '1',
        SHOP_FAULTS: JSON.stringify(NO_FAULTS),
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRIC_EXPORT_INTERVAL: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    onCleanup(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      () =>
        fetch(`${base}/api/health`).then(
          (r) => r.ok || undefined,
          () => undefined,
        ),
      30_000,
    );
    expect(output).toContain(`traces and metrics to ${endpoint}`);

    const placed = await (
      await fetch(`${base}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ productId: 'mug' }),
      })
    ).json();
    await waitFor(async () => {
      const order = await (await fetch(`${base}/api/orders/${placed.orderId}`)).json();
      return order.status === 'fulfilled' || undefined;
    }, 30_000);

    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);

    const saga = receiver.spans.find((span) => span.name === 'process checkout:order:process');
    expect(saga, receiver.spans.map((span) => span.name).join('\n')).toBeDefined();
    const trace = receiver.spans.filter((span) => span.traceId === saga!.traceId);
    const names = new Set(trace.map((span) => span.name));
    // The request's enqueue, the orchestrator, and the children it started, in one trace.
    expect(names).toContain('send checkout:order:process');
    const children = [...names].filter(
      (name) => name.startsWith('process ') && name !== 'process checkout:order:process',
    );
    expect(children.length, [...names].join('\n')).toBeGreaterThanOrEqual(3);
    // Every span of the trace hangs off another span of it, except the root.
    const ids = new Set(trace.map((span) => span.spanId));
    const roots = trace.filter((span) => !span.parentSpanId || !ids.has(span.parentSpanId));
    expect(roots.map((span) => span.name)).toEqual(['send checkout:order:process']);

    expect([...receiver.metricNames]).toEqual(
      expect.arrayContaining(['reseolio.jobs.enqueued', 'reseolio.jobs.completed']),
    );
  });
});

describe("the demo's /metrics", () => {
  it("serves Prometheus text with the saga's jobs to localhost", async () => {
    const shop = await startShop();
    const placed = await shop.request('POST', '/api/orders', { productId: 'mug' });
    await settledOrder(shop, placed.body.orderId);
    // The order is fulfilled inside the saga: its job's outcome is written just after.
    await shop.app.reseolio.getHandle(placed.body.jobId).result(30_000);
    const response = await fetch(`${shop.base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(
      /^reseolio_jobs_completed_total\{function="checkout:order:process",outcome="success"\} 1$/m,
    );
    expect(text).toContain('# TYPE reseolio_jobs gauge');
  });
});
