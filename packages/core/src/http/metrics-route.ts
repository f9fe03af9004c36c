import { ReseolioStateError, StorageError } from '../errors.ts';
import type { Logger } from '../types.ts';
import { checkAuthorization } from './authorize.ts';
import { type ApiResponse, errorResponse, STORAGE_UNAVAILABLE_MESSAGE } from './job-api.ts';
import type { ResolvedMetricsOptions } from './metrics-options.ts';
import type { PrometheusExporter } from './prometheus-exporter.ts';

/**
 * What the metrics route answers: the Prometheus text with its content type (send `body` as
 * it is), or a JSON error like the job routes' (`contentType` absent).
 */
export type MetricsRouteResponse =
  | { status: 200; contentType: string; body: string }
  | (ApiResponse & { contentType?: undefined });

/** One request to the metrics route, as the framework hands it over. */
export interface MetricsRouteRequest<Req> {
  /** The framework's request object, for `authorize`. */
  request: Req;
  /** The framework's logger, for what the caller is not shown. */
  log: Logger;
}

/** Answers the metrics route: see {@link createMetricsRouteHandler}. */
export type MetricsRouteHandler<Req> = (
  request: MetricsRouteRequest<Req>,
) => Promise<MetricsRouteResponse>;

/**
 * The whole of the metrics route, whatever the framework: `authorize` first (401/403/500 as
 * on the job routes), then one render of the exporter. A database that fails the stats read
 * answers 503 and is logged, so the scrape fails (Prometheus's `up` drops to 0) rather than
 * serving job counts that silently went missing; a stopped engine answers 503 too.
 */
export function createMetricsRouteHandler<Req>(
  exporter: PrometheusExporter,
  options: Pick<ResolvedMetricsOptions<Req>, 'authorize'>,
): MetricsRouteHandler<Req> {
  return async ({ request, log }) => {
    const refused = await checkAuthorization(options.authorize, request, log);
    if (refused) return refused;
    try {
      const { contentType, text } = await exporter.render();
      return { status: 200, contentType, body: text };
    } catch (error) {
      // A stopped engine has no storage to read: the process is going away.
      if (error instanceof ReseolioStateError) return errorResponse(503, error.code, error.message);
      if (!(error instanceof StorageError)) throw error;
      log.error('the job storage failed reading the metrics; answering 503', error);
      return errorResponse(503, error.code, STORAGE_UNAVAILABLE_MESSAGE);
    }
  };
}
