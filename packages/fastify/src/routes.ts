import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Reseolio } from 'reseolio';
import {
  createJobRouteHandler,
  createMetricsRouteHandler,
  createScheduleRouteHandler,
  JOB_ROUTES,
  type PrometheusExporter,
  type ResolvedJobApiOptions,
  type ResolvedMetricsOptions,
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
