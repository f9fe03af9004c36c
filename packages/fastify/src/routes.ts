import type { FastifyInstance, FastifyReply } from 'fastify';
import type { JobStatus, Reseolio } from 'reseolio';
import {
  type ApiResponse,
  cancelJob,
  checkAuthorization,
  DEFAULT_LIST_LIMIT,
  errorResponse,
  getJob,
  JOB_STATUSES,
  jobResult,
  listJobs,
  MAX_LIST_LIMIT,
  retryJob,
  runJobApi,
} from 'reseolio/http';
import type { ResolvedRoutesOptions } from './options.ts';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1 } },
} as const;

const listQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: JOB_STATUSES },
    name: { type: 'string', minLength: 1 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT },
    offset: { type: 'integer', minimum: 0 },
  },
} as const;

const resultQuery = {
  type: 'object',
  properties: { waitMs: { type: 'integer', minimum: 0 } },
} as const;

interface IdRoute {
  Params: { id: string };
}

/**
 * The job routes as an encapsulated plugin, so their auth hook and error handler apply to
 * them alone and never to the app's own routes.
 */
export function jobRoutes(engine: Reseolio, options: ResolvedRoutesOptions) {
  return async function reseolioJobRoutes(app: FastifyInstance): Promise<void> {
    // onRequest runs before params and query are validated: a refused caller learns nothing,
    // not even whether its query was well-formed.
    app.addHook('onRequest', async (request, reply) => {
      const refused = await checkAuthorization(options.authorize, request, (err) =>
        request.log.warn({ err }, '@reseolio/fastify: authorize threw; answering 401'),
      );
      if (refused) return reply.code(refused.status).send(refused.body);
    });

    app.setErrorHandler((error: { validation?: unknown; message: string }, _request, reply) => {
      if (error.validation) {
        const { status, body } = errorResponse(400, 'RESEOLIO_INVALID_INPUT', error.message);
        return reply.code(status).send(body);
      }
      // Rethrowing hands the error to the app's own error handler.
      throw error;
    });

    const send = async (reply: FastifyReply, action: () => Promise<ApiResponse>) => {
      // A failed database answers 503 with a generic message; the error itself goes to the log.
      const { status, body } = await runJobApi(engine, action, (err) =>
        reply.log.error({ err }, '@reseolio/fastify: the job storage failed; answering 503'),
      );
      return reply.code(status).send(body);
    };

    app.get<{
      Querystring: { status?: JobStatus; name?: string; limit?: number; offset?: number };
    }>('/', { schema: { querystring: listQuery } }, (request, reply) => {
      const { status, name, limit = DEFAULT_LIST_LIMIT, offset = 0 } = request.query;
      return send(reply, () => listJobs(engine, { status, name, limit, offset }));
    });

    app.get<IdRoute>('/:id', { schema: { params: idParams } }, (request, reply) =>
      send(reply, () => getJob(engine, request.params.id)),
    );

    app.post<IdRoute>('/:id/retry', { schema: { params: idParams } }, (request, reply) =>
      send(reply, () => retryJob(engine, request.params.id)),
    );

    app.post<IdRoute>('/:id/cancel', { schema: { params: idParams } }, (request, reply) =>
      send(reply, () => cancelJob(engine, request.params.id)),
    );

    app.get<IdRoute & { Querystring: { waitMs?: number } }>(
      '/:id/result',
      { schema: { params: idParams, querystring: resultQuery } },
      (request, reply) =>
        send(reply, () =>
          jobResult(engine, request.params.id, request.query.waitMs ?? 0, options.waitMaxMs),
        ),
    );
  };
}
