/**
 * Must-show 1 of issue 16: a saga (an orchestrator awaiting three children) run by two
 * processes, each with its own OpenTelemetry SDK and in-memory exporter, is one trace with
 * the right parent/child links; a failed attempt carries its exception and ERROR status; a
 * process stopped mid-job still exports the attempt's span, ended.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { memoryTracing, useContextManager } from '@reseolio/test-utils/otel';
import { describe, expect, it } from 'vitest';
import { startFixture } from './child-process.ts';
import { engineOn, PROCESS_BACKENDS, waitFor } from './helpers.ts';

/** A span as the fixture nodes send it (and as this process's exporter gives it). */
interface SpanData {
  node: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: { name: string; attributes: Record<string, unknown> }[];
}

type Node = ReturnType<typeof startFixture>;

/** Asks a node for its ended spans (`stop: true` stops its engine first, then it exits). */
function spansOf(node: Node, { stop = false } = {}): Promise<SpanData[]> {
  return new Promise((resolve, reject) => {
    node.child.once('message', (message) => resolve((message as { spans: SpanData[] }).spans));
    node.child.once('exit', (code) => reject(new Error(`node exited (${code}): ${node.stderr()}`)));
    node.child.send({ cmd: stop ? 'stop' : 'spans' });
  });
}

useContextManager();

describe.each(PROCESS_BACKENDS)('traces across processes on $backend', ({ fresh }) => {
  it('a saga on two processes is one trace: links, a failed attempt, a stop mid-job', {
    timeout: 120_000,
  }, async () => {
    const db = fresh();
    const orchestrator = startFixture('trace-node.mjs', [...db.fixtureArgs, 'orchestrator'], {
      ipc: true,
    });
    const children = startFixture('trace-node.mjs', [...db.fixtureArgs, 'children'], {
      ipc: true,
    });
    await Promise.all([orchestrator, children].map((n) => n.waitForLine(/^ready$/, 60_000)));

    // This process only enqueues, under its own SDK: its send span is the trace's root.
    const { tracerProvider, spans } = memoryTracing();
    const client = engineOn(db.storage(), { workerConcurrency: 0, telemetry: { tracerProvider } });
    const order = await client.enqueue<string[]>('saga:order', ['order-1']);
    expect(await order.result(60_000)).toEqual([
      'reserved order-1',
      'charged order-1',
      'shipped order-1',
    ]);

    const hang = await client.enqueue('saga:hang', []);
    await children.waitForLine(new RegExp(`^hanging ${hang.jobId}$`), 30_000);

    const local: SpanData[] = spans().map((span) => ({
      node: 'client',
      name: span.name,
      kind: span.kind,
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId,
      attributes: span.attributes as Record<string, unknown>,
      status: span.status,
      events: span.events.map((e) => ({
        name: e.name,
        attributes: (e.attributes ?? {}) as Record<string, unknown>,
      })),
    }));
    // The orchestrator's spans end once its outcome is written, just after result() resolved.
    const fromOrchestrator = await waitFor(async () => {
      const spans = await spansOf(orchestrator);
      return spans.some((s) => s.name === 'process saga:order') ? spans : undefined;
    });
    // Stopped while saga:hang runs: the attempt is handed back, and its span must end.
    const fromChildren = await spansOf(children, { stop: true });
    const all = [...local, ...fromOrchestrator, ...fromChildren];

    const one = (name: string, node?: string) => {
      const found = all.filter((s) => s.name === name && (node === undefined || s.node === node));
      expect(found, `${name} on ${node ?? 'any node'}`).toHaveLength(1);
      return found[0]!;
    };
    const sagaSpans = all.filter((s) =>
      /saga:(order|reserve|charge|ship)$/.test(String(s.attributes['messaging.destination.name'])),
    );
    // 1 + 1 (order) + 3 sends + 4 process spans (charge twice).
    expect(sagaSpans).toHaveLength(9);
    expect(new Set(sagaSpans.map((s) => s.traceId)).size).toBe(1);

    const sendOrder = one('send saga:order', 'client');
    const processOrder = one('process saga:order', 'orchestrator');
    expect(sendOrder.kind).toBe(SpanKind.PRODUCER);
    expect(sendOrder.parentSpanId).toBeUndefined();
    expect(processOrder.kind).toBe(SpanKind.CONSUMER);
    expect(processOrder.parentSpanId).toBe(sendOrder.spanId);
    expect(processOrder.attributes).toMatchObject({
      'messaging.system': 'reseolio',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'saga:order',
      'messaging.message.id': order.jobId,
      'reseolio.job.attempt': 1,
      'reseolio.job.outcome': 'success',
    });
    for (const child of ['reserve', 'charge', 'ship']) {
      const send = one(`send saga:${child}`, 'orchestrator');
      expect(send.parentSpanId).toBe(processOrder.spanId);
      const processes = all.filter((s) => s.name === `process saga:${child}`);
      expect(processes.length).toBe(child === 'charge' ? 2 : 1);
      for (const span of processes) {
        expect(span.node).toBe('children');
        expect(span.parentSpanId).toBe(send.spanId);
      }
    }

    const [failed, retried] = all
      .filter((s) => s.name === 'process saga:charge')
      .sort(
        (a, b) =>
          Number(a.attributes['reseolio.job.attempt']) -
          Number(b.attributes['reseolio.job.attempt']),
      );
    expect(failed!.attributes).toMatchObject({
      'reseolio.job.attempt': 1,
      'reseolio.job.outcome': 'retry',
    });
    expect(failed!.status).toMatchObject({
      code: SpanStatusCode.ERROR,
      message: 'card declined, try again',
    });
    expect(failed!.events).toContainEqual({
      name: 'exception',
      attributes: expect.objectContaining({
        'exception.type': 'Error',
        'exception.message': 'card declined, try again',
      }),
    });
    expect(retried!.attributes).toMatchObject({
      'reseolio.job.attempt': 2,
      'reseolio.job.outcome': 'success',
    });
    expect(retried!.status.code).toBe(SpanStatusCode.UNSET);

    const hung = one('process saga:hang', 'children');
    expect(hung.attributes).toMatchObject({
      'messaging.message.id': hang.jobId,
      'reseolio.job.outcome': 'released',
    });
    expect(hung.traceId).toBe(one('send saga:hang', 'client').traceId);
    expect(await hang.status()).toBe('pending');
  });
});
