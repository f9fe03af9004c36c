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
 * The SDK's `InMemorySpanExporter`, emptied after every batch it receives unless `keep`:
 * it counts the batch first, so the run still proves that every span was exported. An
 * in-memory exporter keeps each span for the life of the process, which no real exporter
 * does (an OTLP exporter ships a batch and lets it go); kept, 20,000 spans of a drain make it
 * pay for marking a heap that an app would not have (the `keep` drain shows how much).
 */
class BatchReleasingExporter extends InMemorySpanExporter {
  readonly #keep: boolean;
  #exported = 0;

  constructor(keep: boolean) {
    super();
    this.#keep = keep;
  }

  override export(...[spans, done]: Parameters<InMemorySpanExporter['export']>): void {
    this.#exported += spans.length;
    super.export(spans, done);
    if (!this.#keep) this.reset();
  }

  /** Spans received so far, released or kept. */
  get exported(): number {
    return this.#exported;
  }
}

/** The three ways a drain runs: no SDK, the SDK, and the SDK whose exporter keeps every span. */
type Sdk = 'none' | 'sdk' | 'sdk, spans kept';

/**
 * An OpenTelemetry SDK as an app registers it, with in-memory exporters: spans through a
 * BatchSpanProcessor (what production uses; a SimpleSpanProcessor exports each span on the
 * hot path, which no one deploys), metrics read every second (each read is one stats query).
 * Registered globally, so the engine finds it with no option, like an app's.
 *
 * `run` gets the hook to call between its fill and its timed drain: it flushes the fill's
 * `send` spans to the exporter and collects the heap, so the timed drain starts from the same
 * heap as one without an SDK (unless the exporter keeps the spans).
 */
async function withSdk(
  run: (afterFill: () => Promise<void>) => Promise<Measurement>,
  keepSpans: boolean,
): Promise<TracedDrain> {
  const spanExporter = new BatchReleasingExporter(keepSpans);
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
  try {
    const result = await run(async () => {
      await tracerProvider.forceFlush();
      collectGarbage();
    });
    await tracerProvider.forceFlush();
    return { result, spans: spanExporter.exported };
  } finally {
    trace.disable();
    metrics.disable();
    context.disable();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  }
}

/** The rate of two drains of `jobs` each taken together: all their jobs over all their time. */
function pooledRate(a: number, b: number): number {
  return 2 / (1 / a + 1 / b);
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
 * The order of one repetition's drains. The two that are compared run mirrored (A B B A, then
 * B A A B on the next repetition), so a drift of the shared machine that is steady over a
 * repetition slows both alike, and each rate pools two drains, which halves the weight of a
 * single disturbed one. The drain that keeps every span runs first or last, alternately.
 */
function order(rep: number): Sdk[] {
  return rep % 2 === 0
    ? ['none', 'sdk', 'sdk', 'none', 'sdk, spans kept']
    : ['sdk, spans kept', 'sdk', 'none', 'none', 'sdk'];
}

/**
 * 10. What tracing and metrics cost: the c=10 drain of metric 4, without an SDK and with one
 * registered, interleaved in one run (see {@link order}); a third drain under an SDK whose
 * exporter keeps every span shows what an in-memory exporter's hoard adds. With
 * `--otel-baseline <built reseolio dir>`, the same drain on that build (e.g. the commit
 * before telemetry) shows the cost of the no-op path.
 */
export const otel: Metric = {
  key: 'otel',
  title: '10. OpenTelemetry overhead (c=10 drain, PostgreSQL)',
  describe: (cfg) =>
    `${cfg.throughputJobs.toLocaleString('en')} bulk-enqueued no-op jobs drained at concurrency 10 ` +
    '(as metric 4), without an OpenTelemetry SDK and with one registered globally (tracer ' +
    'provider with a BatchSpanProcessor and an in-memory exporter, meter provider with an ' +
    'in-memory reader every second, AsyncLocalStorage context manager). Each repetition runs ' +
    'two drains of each, mirrored (no SDK, SDK, SDK, no SDK; then the reverse), and pools each ' +
    'pair into one rate, so the drift of a shared machine weighs on both alike. Each timed drain ' +
    'starts from a collected heap. The exporter counts each batch of spans it receives and then ' +
    'lets it go, as a real exporter does once a batch is sent ("spans/job" proves the SDK saw ' +
    'the work: 2, a send and a process span); "spans kept" is one more drain whose in-memory ' +
    'exporter keeps every span, the fill\'s and its own, and its ratio. "SDK/no SDK" is the ' +
    'ratio in percent. "CPU" is this process\'s user and system time per job during the drains ' +
    "(PostgreSQL's is not counted), steadier than the rates on a busy machine." +
    (cfg.otelBaseline
      ? ' "baseline" is the same drain on the build given by --otel-baseline, without an SDK.'
      : ''),
  columns: [
    { key: 'untraced', label: 'no SDK', unit: 'jobs/s', better: 'higher' },
    { key: 'traced', label: 'SDK', unit: 'jobs/s', better: 'higher' },
    { key: 'ratio', label: 'SDK/no SDK', unit: '%', better: 'higher' },
    { key: 'untracedCpu', label: 'CPU, no SDK', unit: 'µs/job', better: 'lower' },
    { key: 'tracedCpu', label: 'CPU, SDK', unit: 'µs/job', better: 'lower' },
    { key: 'tracedKept', label: 'SDK, spans kept', unit: 'jobs/s', better: 'higher' },
    { key: 'ratioKept', label: 'spans kept/no SDK', unit: '%', better: 'higher' },
    { key: 'spansPerJob', label: 'spans/job', unit: '', better: 'higher' },
    { key: 'baseline', label: 'baseline, no SDK', unit: 'jobs/s', better: 'higher' },
  ],
  applies: (engine) => engine.key === 'reseolio-pg' && engine.variant === 'default',
  async run(engine: Engine, cfg: BenchConfig): Promise<Measurement[]> {
    const jobs = cfg.throughputJobs;
    const drains = new Map<string, Measurement[]>();
    let spansPerJob = 0;
    const once = async (key: string, on: Engine, sdk: Sdk) => {
      await on.reset();
      let measured: Measurement;
      if (sdk === 'none') {
        // The heap is collected before the timed drain either way (see withSdk).
        measured = await drain(on, jobs, 10, cfg.drainCapMs, {}, async () => collectGarbage());
      } else {
        const traced = await withSdk(
          (afterFill) => drain(on, jobs, 10, cfg.drainCapMs, {}, afterFill),
          sdk === 'sdk, spans kept',
        );
        measured = traced.result;
        spansPerJob = traced.spans / jobs;
      }
      drains.set(key, [...(drains.get(key) ?? []), measured]);
    };
    const key = { none: 'untraced', sdk: 'traced', 'sdk, spans kept': 'tracedKept' } as const;
    const phases = order(repetition++).map((sdk) => () => once(key[sdk], engine, sdk));
    if (cfg.otelBaseline && engine instanceof ReseolioEngine) {
      const other = engine.withEngineClass(await baselineClass(cfg.otelBaseline));
      phases.push(() => once('baseline', other, 'none'));
    }
    for (const phase of phases) await phase();
    const rate = (name: string) => {
      const [a, b] = drains.get(name) ?? [];
      return a && b ? pooledRate(a.rate!, b.rate!) : a?.rate;
    };
    const cpu = (name: string) => {
      const all = drains.get(name) ?? [];
      return all.reduce((sum, m) => sum + m.cpuUsPerJob!, 0) / all.length;
    };
    const untraced = rate('untraced')!;
    const measurement: Measurement = {
      untraced,
      traced: rate('traced')!,
      ratio: (100 * rate('traced')!) / untraced,
      untracedCpu: cpu('untraced'),
      tracedCpu: cpu('traced'),
      tracedKept: rate('tracedKept')!,
      ratioKept: (100 * rate('tracedKept')!) / untraced,
      spansPerJob,
      capped: Math.max(...[...drains.values()].flat().map((m) => m.capped!)),
    };
    const baselineRate = rate('baseline');
    if (baselineRate !== undefined) measurement.baseline = baselineRate;
    return [measurement];
  },
};
