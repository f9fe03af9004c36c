import { describeValue } from '../describe-value.ts';
import type { AuthorizeFn } from './authorize.ts';
import { IntegrationConfigError } from './integration-error.ts';
import { assertKnownRouteOptions, resolveAuthorize } from './route-options.ts';

/**
 * The Prometheus route's options in object form: `metrics: { path, public }`. The route
 * serves the metrics of `reseolio/http`'s Prometheus exporter (job counts by function and
 * status, attempt durations, worker slots), in Prometheus's text format, without any
 * OpenTelemetry setup.
 */
export interface MetricsRouteOptions<Req> {
  /** Where the route is served (Fastify, Nest; on Express, mount it yourself). @default '/metrics' */
  path?: string | undefined;
  /**
   * Decides whether a request may read the metrics, as the job routes' `authorize` does
   * (return `true` to allow, 403 otherwise; throw an error with `status: 401` for 401).
   * @default the job routes' `authorize` (or their `public: true`) where the integration
   *   serves them; required otherwise, unless `public: true`
   */
  authorize?: AuthorizeFn<Req> | undefined;
  /**
   * Serve the metrics to anyone who can reach the route, even when the job routes are behind
   * `authorize`. The metrics carry function names and counts, no job data.
   */
  public?: true | undefined;
  /**
   * Also serve prom-client's default Node.js process metrics (`process_cpu_seconds_total`,
   * `nodejs_heap_size_used_bytes`…). Off because an app that already exports them with its
   * own prom-client registry would serve them twice. @default false
   */
  processMetrics?: boolean | undefined;
}

/**
 * The `metrics` option of `@reseolio/fastify` and `@reseolio/nestjs`: `true` serves
 * `/metrics`, a string serves that path, an object says more (see {@link MetricsRouteOptions}).
 * Behind the job routes' `authorize` unless it has its own, or `public: true`.
 */
export type MetricsOption<Req> = true | string | MetricsRouteOptions<Req>;

/** {@link MetricsOption}, validated. */
export interface ResolvedMetricsOptions<Req> {
  /** `null` where the framework mounts the route itself (Express). */
  path: string | null;
  /** `null` when the metrics are public. */
  authorize: AuthorizeFn<Req> | null;
  processMetrics: boolean;
}

/** The path of the metrics route unless the option names another. */
export const DEFAULT_METRICS_PATH = '/metrics';

const EXPOSES = 'The metrics route shows which functions run and how often';

/**
 * Validates the `metrics` option. Its `authorize` is its own, or else the job routes'
 * (`inherited`: their resolved `authorize`, `null` when they are public); with neither,
 * `authorize` or `public: true` is required, as for the job routes.
 * @param where how messages name the option, e.g. `'metrics'`
 * @param inherited the job routes' `authorize` where the integration serves them, else `undefined`
 * @param withPath whether `path` is an option here; Express mounts with `app.use(path, …)`
 * @returns `null` for `undefined` or `false` (no metrics route)
 */
export function resolveMetricsOptions<Req>(
  option: unknown,
  where: string,
  {
    inherited,
    withPath = true,
  }: { inherited?: AuthorizeFn<Req> | null | undefined; withPath?: boolean } = {},
): ResolvedMetricsOptions<Req> | null {
  if (option === undefined || option === false) return null;
  const object = expandShorthand(option, where, withPath);
  if (!withPath && 'path' in object) {
    throw new IntegrationConfigError(
      `${where} takes no path: mount the router where you want it, e.g. app.use('/metrics', …).`,
    );
  }
  assertKnownRouteOptions(
    object,
    withPath
      ? ['path', 'authorize', 'public', 'processMetrics']
      : ['authorize', 'public', 'processMetrics'],
    where,
  );
  const { path = DEFAULT_METRICS_PATH, processMetrics = false } = object;
  if (withPath && (typeof path !== 'string' || !path.startsWith('/'))) {
    throw new IntegrationConfigError(
      `${where}.path must be a path starting with "/", got ${describeValue(path)}.`,
    );
  }
  if (typeof processMetrics !== 'boolean') {
    throw new IntegrationConfigError(
      `${where}.processMetrics must be true or false, got ${describeValue(processMetrics)}.`,
    );
  }
  const ownAccess = object.authorize !== undefined || object.public !== undefined;
  const authorize =
    ownAccess || inherited === undefined
      ? resolveAuthorize<Req>(object, where, EXPOSES)
      : inherited;
  return { path: withPath ? (path as string) : null, authorize, processMetrics };
}

function expandShorthand(
  option: unknown,
  where: string,
  withPath: boolean,
): Record<string, unknown> {
  if (withPath && option === true) return {};
  if (withPath && typeof option === 'string') return { path: option };
  if (typeof option === 'object' && option !== null && !Array.isArray(option)) {
    return option as Record<string, unknown>;
  }
  throw new IntegrationConfigError(
    withPath
      ? `${where} must be true, a path such as '/metrics', or an object such as { path, authorize }; got ${describeValue(option)}.`
      : `${where} must be an object such as { authorize: (request) => boolean }; got ${describeValue(option)}.`,
  );
}
