import type { Request } from 'express';
import type { Logger, Reseolio } from 'reseolio';
import type {
  DashboardRouteOptions,
  EngineBindingOptions,
  JobRoutesOptions,
  MetricsRouteOptions,
  ScheduleRoutesOptions,
} from 'reseolio/http';

declare global {
  namespace Express {
    interface Request {
      /** The engine attached by `reseolioMiddleware`. */
      reseolio: Reseolio;
    }
  }
}

/** Options of `reseolioMiddleware({ instance, ...options })`. */
export interface MiddlewareOptions {
  /** The engine your app created and starts. */
  instance: Reseolio;
  /**
   * A stopped engine cannot enqueue, so by default the middleware passes a 503 error
   * (`status: 503`, code `RESEOLIO_INVALID_STATE`) to `next` instead of running the handler.
   * A draining engine (`stopping`) still accepts jobs and is let through. `true` attaches the
   * engine and continues anyway, for routes that only sometimes use it. @default false
   */
  optional?: boolean | undefined;
}

/**
 * Options of `reseolioRouter({ instance, ...options })`: the job routes' options shared with
 * `@reseolio/fastify` and `@reseolio/nestjs`, without `prefix` (mount the router where you
 * want it). The routes expose job arguments, results and errors, so `authorize` or an
 * explicit `public: true` is required.
 *
 * | route                            | answers                                                |
 * | -------------------------------- | ------------------------------------------------------ |
 * | `GET /:id`                       | 200 `{ job }`                                          |
 * | `GET /?status&name&limit&offset` | 200 `{ jobs, limit, offset }`, newest first            |
 * | `POST /:id/retry`                | 200 `{ job }`; 409 unless the job is dead or cancelled |
 * | `POST /:id/cancel`               | 200 `{ job }`; 409 when the job had already finished   |
 * | `GET /:id/result?waitMs=N`       | 200 `{ jobId, status, result }`; 202 `{ jobId, status }` when not finished; 409 when dead or cancelled |
 *
 * `GET /?scheduleId=` lists the runs of one schedule (see `reseolioScheduleRouter`).
 *
 * Errors answer `{ error: { code, message } }`: 400 bad params or query, 401 `authorize`
 * threw an error with status 401, 403 `authorize` refused, 404 unknown job, 500 `authorize`
 * threw anything else (logged), 503 engine stopping or database failed (`RESEOLIO_STORAGE`,
 * logged). Any other failure goes to `next(err)`, your error handler.
 */
export interface JobRouterOptions
  extends Omit<JobRoutesOptions<Request>, 'prefix' | 'schedulePrefix'> {
  /** The engine your app created and starts. */
  instance: Reseolio;
  /**
   * Where a failure the caller is not shown is logged (a throwing `authorize`, a failed
   * database): any object with `error` and `warn` methods taking `(message, ...meta)`.
   * @default console, with a `[@reseolio/express]` prefix
   */
  logger?: Logger | undefined;
}

/**
 * Options of `reseolioScheduleRouter({ instance, ...options })`: the schedule routes, mounted
 * where you want them (`app.use('/schedules', …)`). Pass the same `authorize` as to
 * `reseolioRouter` (or `public: true`): schedules carry the arguments of their runs.
 *
 * | route                            | answers                                                 |
 * | -------------------------------- | ------------------------------------------------------- |
 * | `GET /?status&name&limit&offset` | 200 `{ schedules, limit, offset }`, by id               |
 * | `GET /:id`                       | 200 `{ schedule }`                                      |
 * | `POST /:id/pause`                | 200 `{ schedule }`                                      |
 * | `POST /:id/resume`               | 200 `{ schedule }`, active from its next tick after now |
 * | `POST /:id/trigger`              | 202 `{ jobId }`: one run enqueued now, paused or not    |
 *
 * Errors answer as the job router's do; an unknown schedule is 404
 * `RESEOLIO_SCHEDULE_NOT_FOUND`.
 */
export interface ScheduleRouterOptions extends ScheduleRoutesOptions<Request> {
  /** The engine your app created and starts. */
  instance: Reseolio;
  /** Where a failure the caller is not shown is logged. @default console */
  logger?: Logger | undefined;
}

/**
 * Options of `reseolioMetricsRouter({ instance, ...options })`: the Prometheus route of
 * `@reseolio/fastify` and `@reseolio/nestjs`, without `path` (mount the router where you want
 * it, `/metrics` by convention). It needs its own `authorize` or `public: true`: pass the job
 * router's `authorize` to protect both alike. Refusals answer as the job router's do (401,
 * 403, 500 when `authorize` throws); a database that fails the stats read answers 503.
 */
export interface MetricsRouterOptions extends Omit<MetricsRouteOptions<Request>, 'path'> {
  /** The engine your app created and starts. */
  instance: Reseolio;
  /** Where a failure the caller is not shown is logged. @default console */
  logger?: Logger | undefined;
}

/**
 * Options of `reseolioDashboard({ instance, ...options })`: the dashboard of
 * `@reseolio/fastify` and `@reseolio/nestjs`, without `prefix` (mount it where you want it,
 * `/dashboard` by convention). It needs its own `authorize` (it receives the Express request)
 * or `public: true`: pass the job router's `authorize` to protect both alike. Refusals answer
 * as the job router's do (401, 403, 500 when `authorize` throws). Needs `@reseolio/dashboard`
 * installed beside `@reseolio/express`.
 */
export interface DashboardRouterOptions extends Omit<DashboardRouteOptions<Request>, 'prefix'> {
  /** The engine your app created and starts (or only initializes, to look without running jobs). */
  instance: Reseolio;
  /** Where a failure the caller is not shown is logged. @default console */
  logger?: Logger | undefined;
}

/** What `onShutdown` learns about the shutdown that just finished. */
export interface ShutdownInfo {
  /** The signal that started it; `undefined` when `shutdown()` was called directly. */
  signal: NodeJS.Signals | undefined;
  /** The first error from stopping the engine or closing the server, if any. */
  error: unknown;
}

/**
 * Options of `attachShutdown(server, { instance, ...options })`. `instance`, `stopInstance`
 * and `stopTimeoutMs` mean what they mean in `@reseolio/fastify` and `@reseolio/nestjs`:
 * pass `stopInstance: true` to drain the engine on shutdown (you want this unless something
 * else stops it). `stopTimeoutMs` also bounds how long open connections may finish their
 * requests before they are closed.
 */
export interface ShutdownOptions
  extends Pick<EngineBindingOptions, 'stopInstance' | 'stopTimeoutMs'> {
  /** The engine your app created. */
  instance: Reseolio;
  /** Signals that start the shutdown. @default ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[] | undefined;
  /**
   * Called once everything is closed, instead of `process.exit()`. Without it the process
   * exits with code 0, or 1 when stopping failed.
   */
  onShutdown?: ((info: ShutdownInfo) => void | Promise<void>) | undefined;
}

/**
 * What `attachShutdown` returns: call it to remove the signal listeners (detach), or call
 * `shutdown()` to run the shutdown without a signal.
 */
export interface ShutdownController {
  (): void;
  /** Runs the shutdown once; later calls return the same promise. */
  shutdown(signal?: NodeJS.Signals): Promise<void>;
}

/** The part of `http.Server` (or `https.Server`) that shutdown uses. */
export interface ClosableServer {
  close(callback?: (error?: Error) => void): unknown;
  closeIdleConnections?(): void;
  closeAllConnections?(): void;
}
