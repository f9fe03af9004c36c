import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  ParentBasedSampler,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { memoryTracing, useContextManager } from '@reseolio/test-utils/otel';
import { describe, expect, it } from 'vitest';
import { currentJob, JobCancelledError, MemoryStorage, sleep, step } from '../src/index.ts';
import { decodeTraceContext, encodeTraceContext } from '../src/telemetry/trace-context.ts';
import { makeEngine, newJob, waitFor } from './helpers.ts';

useContextManager();

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const traceOf = (span: ReadableSpan) => span.spanContext().traceId;

describe('tracing', () => {
  it('a send span per stored job, a process span per attempt parented on the stored context', async () => {
    const tracing = memoryTracing();
    const engine = makeEngine({ telemetry: { tracerProvider: tracing.tracerProvider } });
    await engine.start();
    const child = engine.durable('saga:child', async (n: number) => n + 1);
    const parent = engine.durable('saga:parent', async () => {
      const handle = await child(1);
      return handle.result();
    });
    const handle = await parent();
    expect(await handle.result(5000)).toBe(2);
    await waitFor(() => tracing.named('process saga:child').length === 1);
    await waitFor(() => tracing.named('process saga:parent').length === 1);
    const [sendParent] = tracing.named('send saga:parent');
    const [processParent] = tracing.named('process saga:parent');
    const [sendChild] = tracing.named('send saga:child');
    const [processChild] = tracing.named('process saga:child');
    expect(sendParent!.kind).toBe(SpanKind.PRODUCER);
    expect(processParent!.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(processParent!)).toBe(idOf(sendParent!));
    expect(parentOf(sendChild!)).toBe(idOf(processParent!));
    expect(parentOf(processChild!)).toBe(idOf(sendChild!));
    const traces = new Set(tracing.spans().map(traceOf));
    expect(traces.size).toBe(1);
    expect(sendParent!.attributes).toEqual({
      'messaging.system': 'reseolio',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'saga:parent',
      'messaging.message.id': handle.jobId,
    });
    expect(processParent!.attributes).toMatchObject({
      'messaging.system': 'reseolio',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'saga:parent',
      'messaging.message.id': handle.jobId,
      'reseolio.job.attempt': 1,
      'reseolio.job.outcome': 'success',
    });
    expect(processParent!.instrumentationScope.name).toBe('reseolio');
    expect(processParent!.instrumentationScope.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('a failed attempt records its exception and ERROR; the retry is a new span of the same trace', async () => {
    const tracing = memoryTracing();
    const engine = makeEngine({ telemetry: { tracerProvider: tracing.tracerProvider } });
    await engine.start();
    const flaky = engine.durable('flaky', async () => {
      if (currentJob()!.attempt === 1) throw new TypeError('first attempt fails');
      return 'ok';
    });
    expect(await (await flaky()).result(5000)).toBe('ok');
    await waitFor(() => tracing.named('process flaky').length === 2);
    const [first, second] = tracing.named('process flaky');
    expect(first!.status.code).toBe(SpanStatusCode.ERROR);
    expect(first!.attributes['reseolio.job.outcome']).toBe('retry');
    expect(first!.events.map((e) => [e.name, e.attributes?.['exception.type']])).toEqual([
      ['exception', 'TypeError'],
    ]);
    expect(second!.status.code).toBe(SpanStatusCode.UNSET);
    expect(second!.attributes).toMatchObject({
      'reseolio.job.attempt': 2,
      'reseolio.job.outcome': 'success',
    });
    expect(traceOf(first!)).toBe(traceOf(second!));
    expect(parentOf(first!)).toBe(parentOf(second!));
  });

  it('steps are child spans, replayed steps and waits are events', async () => {
    const tracing = memoryTracing();
    const engine = makeEngine({
      suspendAfterMs: 10,
      telemetry: { tracerProvider: tracing.tracerProvider },
    });
    await engine.start();
    const flow = engine.durable('flow', async () => {
      const loaded = await step('load', () => 'user');
      await sleep(30);
      return loaded;
    });
    expect(await (await flow()).result(5000)).toBe('user');
    await waitFor(() => tracing.named('process flow').length === 2);
    const [suspended, resumed] = tracing.named('process flow');
    const steps = tracing.named('step load');
    expect(steps).toHaveLength(1);
    expect(parentOf(steps[0]!)).toBe(idOf(suspended!));
    expect(suspended!.attributes['reseolio.job.outcome']).toBe('suspended');
    expect(suspended!.events.map((e) => e.name)).toEqual(['sleep']);
    expect(resumed!.events.map((e) => e.name)).toEqual(['step replayed', 'sleep']);
    expect(resumed!.attributes['reseolio.job.outcome']).toBe('success');
  });

  it('ends the span when stop() hands a running job back, and when a job is cancelled', async () => {
    const tracing = memoryTracing();
    const engine = makeEngine({ telemetry: { tracerProvider: tracing.tracerProvider } });
    await engine.start();
    const started: string[] = [];
    const stuck = engine.durable('stuck', async () => {
      started.push(currentJob()!.jobId);
      await new Promise(() => {});
    });
    const cancelled = await stuck();
    const handedBack = await stuck();
    await waitFor(() => started.length === 2);
    await cancelled.cancel();
    await expect(cancelled.result(5000)).rejects.toBeInstanceOf(JobCancelledError);
    await waitFor(() => tracing.named('process stuck').length === 1);
    await engine.stop({ timeoutMs: 10 });
    const outcomes = Object.fromEntries(
      tracing
        .named('process stuck')
        .map((span) => [
          span.attributes['messaging.message.id'],
          span.attributes['reseolio.job.outcome'],
        ]),
    );
    expect(outcomes).toEqual({ [cancelled.jobId]: 'cancelled', [handedBack.jobId]: 'released' });
  });

  it('an attempt that times out records the timeout', async () => {
    const tracing = memoryTracing();
    const engine = makeEngine({ telemetry: { tracerProvider: tracing.tracerProvider } });
    await engine.start();
    const slow = engine.durable('slow', () => new Promise(() => {}), {
      timeoutMs: 20,
      maxAttempts: 1,
    });
    await expect((await slow()).result(5000)).rejects.toThrow();
    await waitFor(() => tracing.named('process slow').length === 1);
    const [span] = tracing.named('process slow');
    expect(span!.attributes['reseolio.job.outcome']).toBe('dead');
    expect(span!.events[0]!.attributes?.['exception.type']).toBe('RESEOLIO_ATTEMPT_TIMEOUT');
  });

  it('one send span per job of enqueueMany; a deduplicated call names the existing job', async () => {
    const tracing = memoryTracing();
    const engine = makeEngine({
      workerConcurrency: 0,
      telemetry: { tracerProvider: tracing.tracerProvider },
    });
    const fn = engine.durable('batch', async (n: number) => n);
    const handles = await fn.enqueueMany([[1], [2], [3]]);
    const first = await fn.enqueue([4], { idempotencyKey: 'k' });
    await fn.enqueue([4], { idempotencyKey: 'k' });
    const sends = tracing.named('send batch');
    expect(sends.map((s) => s.attributes['messaging.message.id'])).toEqual([
      ...handles.map((h) => h.jobId),
      first.jobId,
      first.jobId,
    ]);
    expect(sends.map((s) => s.attributes['reseolio.job.deduplicated'])).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      true,
    ]);
    const stored = (await engine.listJobs({ name: 'batch' })).length;
    expect(stored).toBe(4);
    expect(new Set(sends.map(traceOf)).size).toBe(5);
  });

  it('without an SDK stores no trace context; with one, stores the send span context', async () => {
    const storage = new MemoryStorage();
    const untraced = makeEngine({ storage, workerConcurrency: 0 });
    const plain = await untraced.durable('plain', async () => {})();
    expect((await storage.getJob(plain.jobId))!.traceContext).toBeNull();
    const tracing = memoryTracing();
    const traced = makeEngine({
      storage,
      workerConcurrency: 0,
      telemetry: { tracerProvider: tracing.tracerProvider },
    });
    const handle = await traced.durable('traced', async () => {})();
    const [send] = tracing.named('send traced');
    const { traceId, spanId } = send!.spanContext();
    expect(JSON.parse((await storage.getJob(handle.jobId))!.traceContext!)).toEqual({
      traceparent: `00-${traceId}-${spanId}-01`,
    });
  });

  it('a trace sampled out at its root stays out across a saga: the jobs run, no span is exported', async () => {
    const storage = new MemoryStorage();
    const tracing = memoryTracing({
      sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    });
    const engine = makeEngine({ storage, telemetry: { tracerProvider: tracing.tracerProvider } });
    await engine.start();
    let childId = '';
    const child = engine.durable('unsampled:child', async () => {
      childId = currentJob()!.jobId;
      return 1;
    });
    const parent = engine.durable('unsampled:parent', async () => (await child()).result());
    const handle = await parent();
    expect(await handle.result(5000)).toBe(1);
    // Both jobs carry the one unsampled trace (flags 00), so every process keeps it out.
    const traceparent = async (id: string) =>
      (JSON.parse((await storage.getJob(id))!.traceContext!) as { traceparent: string })
        .traceparent;
    const [parentContext, childContext] = [
      await traceparent(handle.jobId),
      await traceparent(childId),
    ];
    expect(parentContext).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(childContext.slice(3, 35)).toBe(parentContext.slice(3, 35));
    expect(childContext).toMatch(/-00$/);
    await tracing.tracerProvider.forceFlush();
    expect(tracing.spans()).toEqual([]);
  });

  it('a job with a malformed stored context runs, in a trace of its own', async () => {
    const storage = new MemoryStorage();
    const tracing = memoryTracing();
    const engine = makeEngine({ storage, telemetry: { tracerProvider: tracing.tracerProvider } });
    await storage.enqueue(
      newJob({
        id: '0190a000-0000-7000-8000-000000000009',
        name: 'odd',
        maxAttempts: 1,
        traceContext: '{"traceparent":"garbage"}',
      }),
    );
    engine.durable('odd', async () => 'ran');
    await engine.start();
    expect(await engine.getHandle('0190a000-0000-7000-8000-000000000009').result(5000)).toBe('ran');
    await waitFor(() => tracing.named('process odd').length === 1);
    expect(tracing.named('process odd')[0]!.parentSpanContext).toBeUndefined();
  });
});

describe('stored trace contexts', () => {
  const valid = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
  };

  it('round-trips a span context as W3C traceparent and tracestate', () => {
    const stored = encodeTraceContext(valid);
    expect(JSON.parse(stored!)).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(decodeTraceContext(stored)).toEqual({ ...valid, isRemote: true });
    const withState = decodeTraceContext(
      JSON.stringify({
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
        tracestate: 'vendor=value',
      }),
    );
    expect(withState?.traceState?.get('vendor')).toBe('value');
    expect(withState?.traceFlags).toBe(0);
    expect(JSON.parse(encodeTraceContext(withState!)!)).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
      tracestate: 'vendor=value',
    });
  });

  it('stores nothing for an invalid span context', () => {
    expect(
      encodeTraceContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }),
    ).toBeNull();
  });

  it('ignores malformed stored values, and never lets them choose a prototype', () => {
    const bad = [
      null,
      '',
      'not json',
      '[]',
      'null',
      '"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"',
      JSON.stringify({ traceparent: 42 }),
      JSON.stringify({ traceparent: '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01' }),
      JSON.stringify({ traceparent: `00-${'0'.repeat(32)}-b7ad6b7169203331-01` }),
      JSON.stringify({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01' }),
      JSON.stringify({ traceparent: 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
      JSON.stringify({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x' }),
      JSON.stringify({
        traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
        pad: 'x'.repeat(1100),
      }),
      '{"__proto__":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}',
      // The encoder's plain form is read without JSON.parse: the same length and frame with a
      // quote, an escape or upper case between the quotes is still refused.
      '{"traceparent":"00-0af7651916cd43dd8448eb211c8031"c-b7ad6b7169203331-01"}',
      '{"traceparent":"00-0af7651916cd43dd8448eb211c8031\\c-b7ad6b7169203331-01"}',
      '{"traceparent":"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"}',
      `{"traceparent":"00-${'0'.repeat(32)}-b7ad6b7169203331-01"}`,
    ];
    for (const value of bad.slice(-4)) expect(value?.length).toBe(73);
    for (const value of bad) expect(decodeTraceContext(value)).toBeUndefined();
    expect(({} as Record<string, unknown>).traceparent).toBeUndefined();
    // A later version may add fields after the four it shares with version 00.
    expect(
      decodeTraceContext(
        JSON.stringify({
          traceparent: '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x',
        }),
      )?.spanId,
    ).toBe('b7ad6b7169203331');
  });
});

describe('the telemetry option', () => {
  it('refuses what is not a provider', () => {
    expect(() => makeEngine({ telemetry: { tracerProvider: {} as never } })).toThrow(
      /telemetry.tracerProvider.*TracerProvider/,
    );
    expect(() => makeEngine({ telemetry: { meterProvider: 'x' as never } })).toThrow(
      /telemetry.meterProvider.*MeterProvider/,
    );
    expect(() => makeEngine({ telemetry: { tracer: {} } as never })).toThrow(
      /Unknown Reseolio telemetry option "tracer"/,
    );
    expect(() => makeEngine({ telemetry: 5 as never })).toThrow(/telemetry.*plain object/);
  });
});
