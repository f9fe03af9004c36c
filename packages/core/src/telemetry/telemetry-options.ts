import {
  type MeterProvider,
  metrics,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { assertKnownKeys, assertPlainObject, invalid } from '../options/validators.ts';
import { INSTRUMENTATION_NAME, PACKAGE_VERSION } from './package-version.ts';

/**
 * `new Reseolio({ telemetry })`: where the engine's spans and metrics go. Both default to
 * OpenTelemetry's global providers (what an SDK's `register()`/`start()` sets), which is all
 * most apps need; pass providers to keep one engine's telemetry apart (tests, several engines
 * in one process) or when the app does not register globals.
 */
export interface TelemetryOptions {
  /**
   * Makes the tracer `reseolio`. @default the global provider (`trace.getTracerProvider()`),
   * which follows an SDK registered after the engine was made.
   */
  tracerProvider?: TracerProvider | undefined;
  /**
   * Makes the meter `reseolio`, read when the engine initializes (`init()`, `start()` or the
   * first call): register a global SDK before that. @default the global provider
   * (`metrics.getMeterProvider()`)
   */
  meterProvider?: MeterProvider | undefined;
}

/** The resolved `telemetry` option: the tracer, and how to get the meter provider. */
export interface ResolvedTelemetry {
  tracer: Tracer;
  meterProvider(): MeterProvider;
}

export function resolveTelemetryOptions(options: unknown): ResolvedTelemetry {
  const given = options ?? {};
  assertPlainObject(given, 'The Reseolio option "telemetry"');
  assertKnownKeys(
    given as Record<string, unknown>,
    ['tracerProvider', 'meterProvider'],
    'Reseolio telemetry option',
  );
  const { tracerProvider, meterProvider } = given as TelemetryOptions;
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') {
    throw invalid(
      'telemetry.tracerProvider',
      tracerProvider,
      "an OpenTelemetry TracerProvider (an object with getTracer(), e.g. the SDK's " +
        'BasicTracerProvider or NodeTracerProvider)',
    );
  }
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    throw invalid(
      'telemetry.meterProvider',
      meterProvider,
      "an OpenTelemetry MeterProvider (an object with getMeter(), e.g. the SDK's MeterProvider)",
    );
  }
  return {
    tracer: (tracerProvider ?? trace.getTracerProvider()).getTracer(
      INSTRUMENTATION_NAME,
      PACKAGE_VERSION,
    ),
    meterProvider: () => meterProvider ?? metrics.getMeterProvider(),
  };
}
