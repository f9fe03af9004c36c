import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Reseolio } from 'reseolio';
import {
  createMetricsRouteHandler,
  type MetricsRouteHandler,
  PrometheusExporter,
  type ResolvedMetricsOptions,
} from 'reseolio/http';
import { RESEOLIO_ENGINE, RESEOLIO_METRICS_OPTIONS } from './reseolio.constants.ts';

/**
 * The Prometheus exporter and the shared metrics handler, made with the module's providers,
 * before the engine starts on bootstrap, so the counters see every job the app runs. It stops
 * listening to the engine at shutdown (a borrowed engine may outlive the app).
 */
@Injectable()
export class ReseolioMetricsRoute implements OnApplicationShutdown {
  readonly #exporter: PrometheusExporter;
  readonly handle: MetricsRouteHandler<unknown>;

  constructor(
    @Inject(RESEOLIO_ENGINE) engine: Reseolio,
    @Inject(RESEOLIO_METRICS_OPTIONS) options: ResolvedMetricsOptions<unknown>,
  ) {
    this.#exporter = new PrometheusExporter(engine, { processMetrics: options.processMetrics });
    this.handle = createMetricsRouteHandler(this.#exporter, options);
  }

  onApplicationShutdown(): void {
    this.#exporter.close();
  }
}
