import { metrics } from '@opentelemetry/api';

/** Stops the exporters after flushing what they hold. */
export type StopTelemetry = () => Promise<void>;

/**
 * OpenTelemetry for the shop, on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (say
 * `http://127.0.0.1:4318`, a collector or Jaeger): traces and metrics go there over OTLP/HTTP.
 * Reseolio itself depends only on `@opentelemetry/api`; this is the SDK an application sets up,
 * as docs/observability.md describes. It must run before the engine is created: the engine
 * takes its meter from the global provider when it is built.
 *
 * The SDK packages are imported only when telemetry is on, so `pnpm demo` without a collector
 * loads none of them. Returns undefined when telemetry is off.
 */
export async function startTelemetry(
  env: NodeJS.ProcessEnv = process.env,
): Promise<StopTelemetry | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    sdkMetrics,
    otlpMetrics,
    resources,
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const resource = resources.resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME || 'reseolio-demo-shop',
  });
  // The exporters read OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_* variables) themselves.
  const tracerProvider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // Sets the global tracer provider, the AsyncLocalStorage context manager and the W3C
  // propagator: the active span follows a request into `durable()` calls and their jobs.
  tracerProvider.register();
  const meterProvider = new sdkMetrics.MeterProvider({
    resource,
    readers: [
      new sdkMetrics.PeriodicExportingMetricReader({
        exporter: new otlpMetrics.OTLPMetricExporter(),
        exportIntervalMillis: positiveInteger(env.OTEL_METRIC_EXPORT_INTERVAL, 15_000),
      }),
    ],
  });
  metrics.setGlobalMeterProvider(meterProvider);
  return async () => {
    await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
  };
}

function positiveInteger(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}
