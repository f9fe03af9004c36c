import type { FastifyRequest } from 'fastify';
import type { Reseolio, ReseolioOptions } from 'reseolio';
import type {
  DashboardOption,
  EngineBindingOptions,
  MetricsOption,
  JobRoutesOptions as SharedJobRoutesOptions,
} from 'reseolio/http';

declare module 'fastify' {
  interface FastifyInstance {
    /** The Reseolio engine registered by `@reseolio/fastify`. */
    reseolio: Reseolio;
  }
}

/**
 * The optional job routes, the same as `@reseolio/express` and `@reseolio/nestjs` serve.
 * They expose job arguments, results and errors, so enabling them requires `authorize` or an
 * explicit `public: true`.
 *
 * | route                        | answers                                                        |
 * | ---------------------------- | -------------------------------------------------------------- |
 * | `GET /:id`                   | 200 `{ job }`                                                  |
 * | `GET /?status&name&limit&offset` | 200 `{ jobs, limit, offset }`, newest first                |
 * | `POST /:id/retry`            | 200 `{ job }`; 409 unless the job is dead or cancelled         |
 * | `POST /:id/cancel`           | 200 `{ job }`; 409 when the job had already finished           |
 * | `GET /:id/result?waitMs=N`   | 200 `{ jobId, status, result }`; 202 `{ jobId, status }` when not finished; 409 when dead or cancelled |
 *
 * `GET /?scheduleId=` lists the runs of one schedule. The schedule routes, under
 * `schedulePrefix` (`/schedules`) and behind the same `authorize`:
 *
 * | route                            | answers                                                  |
 * | -------------------------------- | -------------------------------------------------------- |
 * | `GET /?status&name&limit&offset` | 200 `{ schedules, limit, offset }`, by id                |
 * | `GET /:id`                       | 200 `{ schedule }`                                       |
 * | `POST /:id/pause`                | 200 `{ schedule }`                                       |
 * | `POST /:id/resume`               | 200 `{ schedule }`, active from its next tick after now  |
 * | `POST /:id/trigger`              | 202 `{ jobId }`: one run enqueued now, paused or not     |
 *
 * Errors answer `{ error: { code, message } }`: 400 bad params or query, 401 `authorize`
 * threw an error with status 401, 403 `authorize` refused, 404 unknown job or schedule, 500 `authorize`
 * threw anything else (logged through `app.log`), 503 engine stopping or database failed
 * (`RESEOLIO_STORAGE`, the error logged through `app.log`).
 */
export type JobRoutesOptions = SharedJobRoutesOptions<FastifyRequest>;

/**
 * The Prometheus route: `true` (at `/metrics`), a path, or
 * `{ path, authorize, public, processMetrics }` (see `MetricsRouteOptions` in `reseolio/http`).
 */
export type MetricsOptions = MetricsOption<FastifyRequest>;

/**
 * The dashboard: `true` (at `/dashboard`), a prefix, or
 * `{ prefix, authorize, public, readOnly, title, stuckAfterMs }` (see `DashboardRouteOptions`
 * in `reseolio/http`). `authorize` receives the Fastify request.
 */
export type DashboardOptions = DashboardOption<FastifyRequest>;

/** Options every form of the plugin accepts. */
export interface ReseolioPluginCommonOptions extends Pick<EngineBindingOptions, 'stopTimeoutMs'> {
  /** Serve the job routes. Off by default. */
  routes?: JobRoutesOptions | false | undefined;
  /**
   * Serve the engine's metrics in Prometheus's text format: `true` at `/metrics`, a string
   * at that path, or `{ path, authorize, public, processMetrics }`. Behind the job routes'
   * `authorize` (or open if they are `public`) unless it has its own `authorize` or
   * `public: true`; without `routes`, one of the two is required. No OpenTelemetry setup
   * needed. See docs/observability.md for the metrics. Off by default.
   */
  metrics?: MetricsOptions | false | undefined;
  /**
   * Serve the dashboard (`@reseolio/dashboard`, install it beside this plugin): `true` at
   * `/dashboard`, a string at that prefix, or `{ prefix, authorize, public, readOnly, title,
   * stuckAfterMs }`. Behind the job routes' `authorize` (or open if they are `public`) unless
   * it has its own `authorize` or `public: true`; without `routes`, one of the two is
   * required. `readOnly: true` hides and refuses every action. Off by default.
   */
  dashboard?: DashboardOptions | false | undefined;
}

/**
 * The plugin builds and owns the engine from these options (see `ReseolioOptions` in
 * `reseolio`); it is stopped, and storage it opened closed, on `app.close()`. Unless
 * `logger` is given, the engine logs through `app.log`. As with `new Reseolio()`, leave
 * `storage` out for the SQLite default: given as `undefined` (an unset environment variable)
 * it is an error.
 */
export type ReseolioPluginEngineOptions = ReseolioOptions &
  ReseolioPluginCommonOptions & {
    instance?: undefined;
    stopInstance?: undefined;
    /** @deprecated renamed `stopInstance` */
    closeInstance?: undefined;
  };

/**
 * The plugin borrows an engine made by the app. It is started when the app is ready, but
 * stopped on `app.close()` only with `stopInstance: true`.
 */
export type ReseolioPluginInstanceOptions = ReseolioPluginCommonOptions &
  Pick<EngineBindingOptions, 'stopInstance'> & {
    instance: Reseolio;
    /** @deprecated renamed `stopInstance` (same meaning); still accepted, with a warning. */
    closeInstance?: boolean | undefined;
  } & { [K in keyof ReseolioOptions]?: undefined };

/** `app.register(reseolio, options)`. */
export type ReseolioPluginOptions = ReseolioPluginEngineOptions | ReseolioPluginInstanceOptions;
