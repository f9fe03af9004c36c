import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { Reseolio } from 'reseolio';
import { collectGarbage } from '../collect-garbage.ts';
import type { BenchConfig } from '../config.ts';
import { ReseolioEngine } from '../engines/reseolio.ts';
import type { Engine } from '../engines/types.ts';
import { drain } from './drain.ts';
import type { Measurement, Metric } from './types.ts';

/** What a drain under the SDK reports besides its rate. */
interface TracedDrain {
  result: Measurement;
  /** Spans the exporter received: those of the fill and those of the drain. */
  spans: number;
}

/**
 * An OpenTelemetry SDK as an app registers it, with in-memory exporters: spans through a
 * BatchSpanProcessor (what production uses; a SimpleSpanProcessor exports each span on the
 * hot path, which no one deploys), metrics read every second (each read is one stats query).
 * Registered globally, so the engine finds it with no option, like an app's.
 *
 * `run` gets the hook to call between its fill and its timed drain: it counts the fill's
 * `send` spans and, unless `keepFillSpans`, lets the exporter drop them. An in-memory
 * exporter keeps every span it is given for the life of the process, which no real exporter
 * does (it ships them and lets them go); kept, the fill's 20,000 spans make the timed drain
 * pay for collecting a heap an app would not have (the `keepFillSpans` run shows how much).
 * The drain's own spans stay kept until the end, so the drain still pays for the spans it
 * makes.
 */
async function withSdk(
  run: (afterFill: () => Promise<void>) => Promise<Measurement>,
  keepFillSpans: boolean,
): Promise<TracedDrain> {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(spanExporter)],
  });
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
        exportIntervalMillis: 1000,
      }),
    ],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  let fillSpans = 0;
  try {
    const result = await run(async () => {
      await tracerProvider.forceFlush();
      if (!keepFillSpans) {
        fillSpans = spanExporter.getFinishedSpans().length;
        spanExporter.reset();
      }
      collectGarbage();
    });
    await tracerProvider.forceFlush();
    return { result, spans: fillSpans + spanExporter.getFinishedSpans().length };
  } finally {
    trace.disable();
    metrics.disable();
    context.disable();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  }
}

let baseline: Promise<typeof Reseolio> | undefined;
/** The `Reseolio` class of the build at `cfg.otelBaseline`. */
function baselineClass(dir: string): Promise<typeof Reseolio> {
  baseline ??= import(pathToFileURL(resolve(dir, 'dist/index.js')).href).then(
    (module: { Reseolio: typeof Reseolio }) => module.Reseolio,
  );
  return baseline;
}

let repetition = 0;

/**
 * 10. What tracing and metrics cost: the c=10 drain of metric 4, without an SDK and with one
 * registered (once with the fill's spans dropped before the drain, once kept), interleaved in
 * one run (a different drain goes first each repetition, so drift of the shared machine
 * favours none). With `--otel-baseline <built reseolio dir>`, the same drain
 * on that build (e.g. the commit before telemetry) shows the cost of the no-op path.
 */
export const otel: Metric = {
  key: 'otel',
  title: '10. OpenTelemetry overhead (c=10 drain, PostgreSQL)',
  describe: (cfg) =>
    `${cfg.throughputJobs.toLocaleString('en')} bulk-enqueued no-op jobs drained at concurrency 10 ` +
    '(as metric 4), without an OpenTelemetry SDK and with one registered globally (tracer ' +
    'provider with a BatchSpanProcessor and an in-memory exporter, meter provider with an ' +
    'in-memory reader every second, AsyncLocalStorage context manager), alternating which runs ' +
    "first. Each timed drain starts from a collected heap; under the SDK the fill's spans are " +
    'counted and then dropped by the exporter before the drain (an in-memory exporter keeps every ' +
    'span for ever, a real one lets them go), the drain\'s own stay kept. "SDK/no SDK" is the ' +
    'ratio in percent; "fill kept" is a third drain under the SDK whose exporter still holds ' +
    "the fill's spans, and its ratio. " +
    `"spans/job" proves the SDK saw the work (2: a send and a process span).${
      cfg.otelBaseline
        ? ' "baseline" is the same drain on the build given by --otel-baseline, without an SDK.'
        : ''
    }`,
  columns: [
    { key: 'untraced', label: 'no SDK', unit: 'jobs/s', better: 'higher' },
    { key: 'traced', label: 'SDK', unit: 'jobs/s', better: 'higher' },
    { key: 'ratio', label: 'SDK/no SDK', unit: '%', better: 'higher' },
    { key: 'tracedKept', label: 'SDK, fill kept', unit: 'jobs/s', better: 'higher' },
    { key: 'ratioKept', label: 'fill kept/no SDK', unit: '%', better: 'higher' },
    { key: 'spansPerJob', label: 'spans/job', unit: '', better: 'higher' },
    { key: 'baseline', label: 'baseline, no SDK', unit: 'jobs/s', better: 'higher' },
  ],
  applies: (engine) => engine.key === 'reseolio-pg' && engine.variant === 'default',
  async run(engine: Engine, cfg: BenchConfig): Promise<Measurement[]> {
    const jobs = cfg.throughputJobs;
    const rates: Measurement = {};
    let capped = 0;
    const once = async (key: string, on: Engine, sdk: 'none' | 'sdk' | 'sdk, fill kept') => {
      await on.reset();
      // Either way the timed drain starts from a collected heap (see withSdk).
      if (sdk === 'none') {
        const plain = await drain(on, jobs, 10, cfg.drainCapMs, {}, async () => collectGarbage());
        rates[key] = plain.rate!;
        capped = Math.max(capped, plain.capped!);
        return;
      }
      const traced = await withSdk(
        (afterFill) => drain(on, jobs, 10, cfg.drainCapMs, {}, afterFill),
        sdk === 'sdk, fill kept',
      );
      rates[key] = traced.result.rate!;
      rates.spansPerJob = traced.spans / jobs;
      capped = Math.max(capped, traced.result.capped!);
    };
    const phases: (() => Promise<void>)[] = [
      () => once('untraced', engine, 'none'),
      () => once('traced', engine, 'sdk'),
      () => once('tracedKept', engine, 'sdk, fill kept'),
    ];
    if (cfg.otelBaseline && engine instanceof ReseolioEngine) {
      const other = engine.withEngineClass(await baselineClass(cfg.otelBaseline));
      phases.push(() => once('baseline', other, 'none'));
    }
    // A different phase first on each repetition: drift of the shared machine favours none.
    const shift = repetition++ % phases.length;
    for (const phase of [...phases.slice(shift), ...phases.slice(0, shift)]) await phase();
    return [
      {
        ...rates,
        ratio: (100 * rates.traced!) / rates.untraced!,
        ratioKept: (100 * rates.tracedKept!) / rates.untraced!,
        capped,
      },
    ];
  },
};
