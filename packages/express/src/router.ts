import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  type JobStatus,
  type Reseolio,
  ReseolioValidationError,
  type StorageError,
} from 'reseolio';
import {
  type ApiResponse,
  cancelJob,
  checkAuthorization,
  DEFAULT_LIST_LIMIT,
  getJob,
  JOB_STATUSES,
  jobResult,
  type ListQuery,
  listJobs,
  MAX_LIST_LIMIT,
  retryJob,
  runJobApi,
} from 'reseolio/http';
import { assertEngine, resolveRouterOptions } from './options.ts';
import type { JobRouterOptions } from './types.ts';
import { wrapAsync } from './wrap-async.ts';

type Route =
  | { kind: 'list' }
  | { kind: 'get' | 'retry' | 'cancel' | 'result'; id: string }
  | { kind: 'bad-id' };

/**
 * The job routes as one request handler; mount it with `app.use('/jobs', reseolioRouter(…))`.
 * It matches paths itself instead of building an `express.Router()`: importing `express`
 * here could load a different copy (or major) than the app's, and a plain handler behaves
 * the same on Express 4 and 5. Paths it does not serve fall through to `next()`.
 */
export function reseolioRouter(engine: Reseolio, options: JobRouterOptions): RequestHandler {
  assertEngine(engine, 'reseolioRouter');
  const { authorize, waitMaxMs } = resolveRouterOptions(options);

  return wrapAsync(async function reseolioJobRouter(
    req: Request,
    res: Response,
    next: NextFunction,
  ) {
    const route = matchRoute(req.method, req.path);
    if (route === undefined) {
      next();
      return;
    }
    // Before anything is parsed or validated: a refused caller learns nothing.
    const refused = await checkAuthorization(authorize, req, () => {});
    if (refused) {
      send(res, refused);
      return;
    }
    send(
      res,
      await runJobApi(
        engine,
        () => {
          switch (route.kind) {
            case 'bad-id':
              throw new ReseolioValidationError(
                'The job id in the path is not valid URL encoding.',
              );
            case 'list':
              return listJobs(engine, parseListQuery(req.query));
            case 'get':
              return getJob(engine, route.id);
            case 'retry':
              return retryJob(engine, route.id);
            case 'cancel':
              return cancelJob(engine, route.id);
            case 'result':
              return jobResult(engine, route.id, parseWaitMs(req.query), waitMaxMs);
          }
        },
        logStorageError,
      ),
    );
  });
}

function matchRoute(method: string, path: string): Route | undefined {
  // `path` is relative to the mount point: '/', '/<id>', '/<id>/<action>'.
  const parts = path.split('/').slice(1);
  const [first = '', action] = parts;
  if (parts.length === 1 && first === '') return method === 'GET' ? { kind: 'list' } : undefined;
  if (first === '' || parts.length > 2) return undefined;
  const kind =
    parts.length === 1
      ? method === 'GET' && 'get'
      : (method === 'POST' && (action === 'retry' || action === 'cancel') && action) ||
        (method === 'GET' && action === 'result' && 'result');
  if (!kind) return undefined;
  try {
    return { kind, id: decodeURIComponent(first) };
  } catch {
    return { kind: 'bad-id' };
  }
}

/** The same rules as the Fastify package's JSON schema for this query. */
function parseListQuery(query: Record<string, unknown>): ListQuery {
  const status = optionalString(query, 'status');
  if (status !== undefined && !JOB_STATUSES.includes(status as JobStatus)) {
    throw new ReseolioValidationError(
      `querystring/status must be one of ${JOB_STATUSES.join(', ')}, got "${status}".`,
    );
  }
  const name = optionalString(query, 'name');
  if (name === '') throw new ReseolioValidationError('querystring/name must not be empty.');
  return {
    status: status as JobStatus | undefined,
    name,
    limit: optionalInteger(query, 'limit', 1, MAX_LIST_LIMIT) ?? DEFAULT_LIST_LIMIT,
    offset: optionalInteger(query, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0,
  };
}

function parseWaitMs(query: Record<string, unknown>): number {
  return optionalInteger(query, 'waitMs', 0, Number.MAX_SAFE_INTEGER) ?? 0;
}

function optionalString(query: Record<string, unknown>, key: string): string | undefined {
  const value = query[key];
  if (value === undefined) return undefined;
  // Repeated (`?a=1&a=2`) or nested (`?a[b]=1`) parameters arrive as arrays or objects.
  if (typeof value !== 'string') {
    throw new ReseolioValidationError(`querystring/${key} must be given once, as a string.`);
  }
  return value;
}

function optionalInteger(
  query: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const text = optionalString(query, key);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new ReseolioValidationError(
      `querystring/${key} must be an integer from ${min} to ${max}, got "${text}".`,
    );
  }
  return value;
}

/**
 * A failed database answers 503 with a generic message; the error itself is written to
 * stderr, as Express's own error handler does with the errors it answers.
 */
function logStorageError(error: StorageError): void {
  console.error('[@reseolio/express] the job storage failed; answering 503', error);
}

function send(res: Response, { status, body }: ApiResponse): void {
  res.status(status).json(body);
}
