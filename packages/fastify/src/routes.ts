import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Reseolio } from 'reseolio';
import {
  createJobRouteHandler,
  createMetricsRouteHandler,
  createScheduleRouteHandler,
  type DashboardRequestHandler,
  JOB_ROUTES,
  type PrometheusExporter,
  queryOf,
  type ResolvedJobApiOptions,
  type ResolvedMetricsOptions,
  redirectToDashboardRoot,
  SCHEDULE_ROUTES,
} from 'reseolio/http';
import { fastifyLogger } from './logger.ts';

/**
 * The job routes (`reseolio/http`'s route table) as an encapsulated plugin, so nothing of
 * theirs reaches the app's own routes. Authorization, query parsing and answers are the
 * shared handler's, the same as on Express and Nest.
 */
export function jobRoutes(engine: Reseolio, options: ResolvedJobApiOptions<FastifyRequest>) {
  const handle = createJobRouteHandler(engine, options);
  return async function reseolioJobRoutes(app: FastifyInstance): Promise<void> {
    for (const route of JOB_ROUTES) {
      app.route({
        method: route.method,
        url: route.path,
        handler: async (request, reply) => {
          const params = request.params as { id?: string; topic?: string };
          const { status, body } = await handle(route.action, {
            request,
            id: params.id,
            topic: params.topic,
            query: request.query as Record<string, unknown>,
            // Fastify's own JSON parser read it; `undefined` when the request had none.
            body: request.body,
            headers: request.headers,
            log: fastifyLogger(request.log),
          });
          return reply.code(status).send(body);
        },
      });
    }
  };
}

/** The schedule routes, the same way, behind the job routes' `authorize`. */
export function scheduleRoutes(engine: Reseolio, options: ResolvedJobApiOptions<FastifyRequest>) {
  const handle = createScheduleRouteHandler(engine, options);
  return async function reseolioScheduleRoutes(app: FastifyInstance): Promise<void> {
    for (const route of SCHEDULE_ROUTES) {
      app.route({
        method: route.method,
        url: route.path,
        handler: async (request, reply) => {
          const { status, body } = await handle(route.action, {
            request,
            id: (request.params as { id?: string }).id,
            query: request.query as Record<string, unknown>,
            log: fastifyLogger(request.log),
          });
          return reply.code(status).send(body);
        },
      });
    }
  };
}

/** `GET <path>`: the Prometheus text of `exporter`, behind the resolved `authorize`. */
export function metricsRoute(
  exporter: PrometheusExporter,
  options: ResolvedMetricsOptions<FastifyRequest> & { path: string },
) {
  const handle = createMetricsRouteHandler(exporter, options);
  return async function reseolioMetricsRoute(app: FastifyInstance): Promise<void> {
    app.get(options.path, async (request, reply) => {
      const answer = await handle({ request, log: fastifyLogger(request.log) });
      reply.code(answer.status);
      if (answer.contentType !== undefined) reply.type(answer.contentType);
      return reply.send(answer.body);
    });
  };
}

/**
 * The dashboard under `prefix`: every method and path below it goes to the dashboard, which
 * writes the answer to Node's response itself (the reply is hijacked, so Fastify sends
 * nothing of its own); the bare prefix redirects to `prefix/`. An encapsulated plugin whose
 * body parsers leave bodies unread: the dashboard reads its actions' JSON from the stream.
 */
export function dashboardRoutes(handle: DashboardRequestHandler<FastifyRequest>, prefix: string) {
  return async function reseolioDashboard(app: FastifyInstance): Promise<void> {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    const serve = (request: FastifyRequest, reply: FastifyReply, path: string) => {
      reply.hijack();
      return handle({
        request,
        req: request.raw,
        res: reply.raw,
        path,
        log: fastifyLogger(request.log),
      });
    };

    app.all(prefix, async (request, reply) => {
      const url = request.raw.url ?? prefix;
      // With ignoreTrailingSlash, `prefix/` lands here too: serve it rather than loop.
      if (url.split('?')[0]!.endsWith('/')) return serve(request, reply, `/${queryOf(url)}`);
      reply.hijack();
      redirectToDashboardRoot(reply.raw, url);
    });

    app.all(`${prefix}/*`, async (request, reply) => {
      const url = request.raw.url ?? '/';
      // The path below the prefix as received, still percent-encoded (the `*` param is
      // decoded). The route's own URL carries any prefix the app registered the plugin under.
      const mounted = request.routeOptions.url!.length - 1;
      return serve(request, reply, `/${url.slice(mounted)}`);
    });
  };
}
