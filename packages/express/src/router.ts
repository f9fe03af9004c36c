import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Reseolio } from 'reseolio';
import {
  createJobRouteHandler,
  createMetricsRouteHandler,
  createScheduleRouteHandler,
  matchJobRoute,
  matchScheduleRoute,
  PrometheusExporter,
  readJsonBody,
} from 'reseolio/http';
import {
  optionsFrom,
  resolveMetricsRouterOptions,
  resolveRouterOptions,
  resolveScheduleRouterOptions,
} from './options.ts';
import type { JobRouterOptions, MetricsRouterOptions, ScheduleRouterOptions } from './types.ts';
import { wrapAsync } from './wrap-async.ts';

/**
 * The job routes as one request handler; mount it with `app.use('/jobs', reseolioRouter(…))`.
 * It matches paths against `reseolio/http`'s route table itself instead of building an
 * `express.Router()`: importing `express` here could load a different copy (or major) than
 * the app's, and a plain handler behaves the same on Express 4 and 5. Paths it does not serve
 * fall through to `next()`. Answers are the shared handler's, the same as Fastify's and Nest's.
 */
export function reseolioRouter(options: JobRouterOptions): RequestHandler;
/** @deprecated pass the engine as an option: `reseolioRouter({ instance: reseolio, ... })`. */
export function reseolioRouter(
  engine: Reseolio,
  options: Omit<JobRouterOptions, 'instance'>,
): RequestHandler;
export function reseolioRouter(first: unknown, second?: unknown): RequestHandler {
  const { engine, routes, logger } = resolveRouterOptions(
    optionsFrom(first, second, 'reseolioRouter'),
  );
  const handle = createJobRouteHandler(engine, routes);

  return wrapAsync(async function reseolioJobRouter(
    req: Request,
    res: Response,
    next: NextFunction,
  ) {
    // `path` is relative to the mount point: '/', '/<id>', '/<id>/<action>'.
    const route = matchJobRoute(req.method, req.path);
    if (route === undefined) {
      next();
      return;
    }
    const { status, body } = await handle(route.action, {
      request: req,
      id: route.id,
      topic: route.topic,
      query: req.query as Record<string, unknown>,
      // The signal route's JSON body: the one `express.json()` parsed when it is mounted in
      // front, else read here, after `authorize`.
      readBody: () => readJsonBody(req),
      headers: req.headers,
      log: logger,
    });
    res.status(status).json(body);
  });
}

/**
 * The schedule routes as one request handler; mount it with
 * `app.use('/schedules', reseolioScheduleRouter({ instance, authorize }))`, with the same
 * `authorize` as the job router. It works as {@link reseolioRouter} does: paths it does not
 * serve fall through to `next()`, answers are the shared handler's.
 */
export function reseolioScheduleRouter(options: ScheduleRouterOptions): RequestHandler {
  const { engine, routes, logger } = resolveScheduleRouterOptions(options);
  const handle = createScheduleRouteHandler(engine, routes);

  return wrapAsync(async function reseolioScheduleRouter(
    req: Request,
    res: Response,
    next: NextFunction,
  ) {
    const route = matchScheduleRoute(req.method, req.path);
    if (route === undefined) {
      next();
      return;
    }
    const { status, body } = await handle(route.action, {
      request: req,
      id: route.id,
      query: req.query as Record<string, unknown>,
      log: logger,
    });
    res.status(status).json(body);
  });
}

/**
 * The engine's metrics in Prometheus's text format, as one request handler; mount it with
 * `app.use('/metrics', reseolioMetricsRouter({ instance, authorize }))`. It answers `GET` on
 * its mount point and passes anything else to `next()`. The counters count from the moment it
 * is made: make it before the engine starts to see every job.
 */
export function reseolioMetricsRouter(options: MetricsRouterOptions): RequestHandler {
  const { engine, metrics, logger } = resolveMetricsRouterOptions(options);
  const exporter = new PrometheusExporter(engine, { processMetrics: metrics.processMetrics });
  const handle = createMetricsRouteHandler(exporter, metrics);

  return wrapAsync(async function reseolioMetricsRouter(
    req: Request,
    res: Response,
    next: NextFunction,
  ) {
    if (req.method !== 'GET' || req.path !== '/') {
      next();
      return;
    }
    const answer = await handle({ request: req, log: logger });
    if (answer.contentType === undefined) {
      res.status(answer.status).json(answer.body);
      return;
    }
    res.status(answer.status).set('content-type', answer.contentType).send(answer.body);
  });
}
