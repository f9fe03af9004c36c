/**
 * In-memory OpenTelemetry for tests: a tracer provider and a meter provider whose output the
 * test reads, and the AsyncLocalStorage context manager an app with an SDK registers.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll } from 'vitest';

/** An AsyncLocalStorage context manager for the file's tests, as an app with an SDK has. */
export function useContextManager(): void {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterAll(() => {
    manager.disable();
    context.disable();
  });
}

/**
 * A tracer provider that keeps every ended span in memory; `sampler` defaults to the SDK's
 * (parent-based, every root sampled).
 */
export function memoryTracing(options: { sampler?: Sampler } = {}) {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    ...options,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return {
    tracerProvider,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    named: (name: string): ReadableSpan[] =>
      exporter.getFinishedSpans().filter((span) => span.name === name),
  };
}

/** A meter provider whose metrics are read on demand (`collect()`). */
export function memoryMetrics() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    async collect(): Promise<ResourceMetrics> {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return resourceMetrics;
    },
    shutdown: () => meterProvider.shutdown(),
  };
}

/** The points of metric `name`, as (attributes, value) pairs. */
export function points(
  metrics: ResourceMetrics,
  name: string,
): { attributes: Record<string, unknown>; value: unknown }[] {
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      return metric.dataPoints.map((point) => ({
        attributes: point.attributes as Record<string, unknown>,
        value: point.value,
      }));
    }
  }
  return [];
}
