import { ReseolioValidationError } from '../errors.ts';
import type { Reseolio } from '../reseolio.ts';
import type { Logger } from '../types.ts';
import { checkAuthorization } from './authorize.ts';
import {
  type ApiResponse,
  cancelJob,
  getJob,
  jobResult,
  listJobs,
  retryJob,
  runJobApi,
  signalJob,
} from './job-api.ts';
import { parseListQuery, parseScheduleListQuery, parseSignalBody, parseWaitMs } from './query.ts';
import type { ResolvedJobApiOptions } from './route-options.ts';
import type { JobRouteAction, ScheduleRouteAction } from './route-table.ts';
import {
  getSchedule,
  listSchedules,
  pauseSchedule,
  resumeSchedule,
  triggerSchedule,
} from './schedule-api.ts';

/** One request to a job or schedule route, as the framework hands it over. */
export interface JobRouteRequest<Req> {
  /** The framework's request object, for `authorize`. */
  request: Req;
  /** The decoded `:id`; `null` when it was not valid URL encoding; unused by `list`. */
  id: string | null | undefined;
  /** The decoded `:topic` of `POST /:id/signals/:topic`; `null` when not valid URL encoding. */
  topic?: string | null | undefined;
  /** The parsed query string. */
  query: Record<string, unknown>;
  /**
   * The parsed JSON body (`signal` reads it; the other routes ignore it): `undefined` when
   * the request had none.
   */
  body?: unknown;
  /**
   * Reads and parses the body, where the framework hands over the raw request (Express):
   * called for `signal` only, after `authorize`, when `body` is `undefined`.
   */
  readBody?: (() => Promise<unknown>) | undefined;
  /** The request's headers, names lower-cased (`signal` reads `idempotency-key`). */
  headers?: Record<string, unknown> | undefined;
  /** The framework's logger, for what the caller is not shown. */
  log: Logger;
}

/** Answers one job route: see {@link createJobRouteHandler}. */
export type JobRouteHandler<Req> = (
  action: JobRouteAction,
  request: JobRouteRequest<Req>,
) => Promise<ApiResponse>;

/**
 * The whole of a job route, whatever the framework: `authorize` first, before anything of
 * the request is read (a refused caller learns nothing, not even whether its query was
 * well-formed), then the query, then the engine call, with the engine's errors turned into
 * answers. A database failure answers 503 and is logged at error level. Anything else that
 * fails is thrown for the framework's error handler.
 */
export function createJobRouteHandler<Req>(
  engine: Reseolio,
  options: ResolvedJobApiOptions<Req>,
): JobRouteHandler<Req> {
  return async (action, { request, id, topic, query, body, readBody, headers, log }) => {
    const refused = await checkAuthorization(options.authorize, request, log);
    if (refused) return refused;
    return runJobApi(
      engine,
      () => {
        if (action === 'list') return listJobs(engine, parseListQuery(query));
        if (typeof id !== 'string') {
          throw new ReseolioValidationError('The job id in the path is not valid URL encoding.');
        }
        switch (action) {
          case 'get':
            return getJob(engine, id);
          case 'retry':
            return retryJob(engine, id);
          case 'cancel':
            return cancelJob(engine, id);
          case 'result':
            return jobResult(engine, id, parseWaitMs(query), options.waitMaxMs);
          case 'signal':
            if (typeof topic !== 'string') {
              throw new ReseolioValidationError(
                'The signal topic in the path is not valid URL encoding.',
              );
            }
            return (async () => {
              const parsed = body === undefined && readBody ? await readBody() : body;
              return signalJob(engine, id, topic, parseSignalBody(parsed, headers));
            })();
        }
      },
      (error) => log.error('the job storage failed; answering 503', error),
    );
  };
}

/** Answers one schedule route: see {@link createScheduleRouteHandler}. */
export type ScheduleRouteHandler<Req> = (
  action: ScheduleRouteAction,
  request: JobRouteRequest<Req>,
) => Promise<ApiResponse>;

/**
 * The whole of a schedule route, as {@link createJobRouteHandler} is for the job routes and
 * with the same `authorize`: authorization first, then the query, then the engine call,
 * with the same error answers (an unknown schedule is 404 `RESEOLIO_SCHEDULE_NOT_FOUND`).
 */
export function createScheduleRouteHandler<Req>(
  engine: Reseolio,
  options: Pick<ResolvedJobApiOptions<Req>, 'authorize'>,
): ScheduleRouteHandler<Req> {
  return async (action, { request, id, query, log }) => {
    const refused = await checkAuthorization(options.authorize, request, log);
    if (refused) return refused;
    return runJobApi(
      engine,
      () => {
        if (action === 'list') return listSchedules(engine, parseScheduleListQuery(query));
        if (typeof id !== 'string') {
          throw new ReseolioValidationError(
            'The schedule id in the path is not valid URL encoding.',
          );
        }
        switch (action) {
          case 'get':
            return getSchedule(engine, id);
          case 'pause':
            return pauseSchedule(engine, id);
          case 'resume':
            return resumeSchedule(engine, id);
          case 'trigger':
            return triggerSchedule(engine, id);
        }
      },
      (error) => log.error('the job storage failed; answering 503', error),
    );
  };
}
