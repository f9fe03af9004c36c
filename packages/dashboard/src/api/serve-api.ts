import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Reseolio } from 'reseolio';
import {
  type ApiResponse,
  cancelJob,
  errorResponse,
  parseSignalBody,
  pauseSchedule,
  readJsonBody,
  resumeSchedule,
  retryJob,
  runJobApi,
  signalJob,
  triggerSchedule,
} from 'reseolio/http';
import type { ResolvedDashboardOptions } from '../options.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../route.ts';
import { coalesce } from './coalesce.ts';
import { bulkAction, countJobs, jobPage, listJobs } from './jobs.ts';
import { overview } from './overview.ts';
import { listSchedules, toScheduleView } from './schedules.ts';

/**
 * `api/…`: the JSON the page reads (GET) and the actions it posts (POST). Answers and error
 * bodies are the job routes' (`{ error: { code, message } }`, the same status codes), through
 * the same `reseolio/http` functions where the action is the same.
 */
export async function serveApi<Req>(
  config: ResolvedDashboardOptions<Req>,
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
): Promise<void> {
  const engine = config.instance;
  const match = matchApi(route.segments.slice(1));
  if (match === undefined) {
    sendJson(
      res,
      errorResponse(404, 'RESEOLIO_NOT_FOUND', `The dashboard has no ${route.pathname}.`),
    );
    return;
  }
  if (match.method !== req.method && !(match.method === 'GET' && req.method === 'HEAD')) {
    res.setHeader('allow', match.method);
    sendJson(
      res,
      errorResponse(
        405,
        'RESEOLIO_METHOD_NOT_ALLOWED',
        `${req.method} ${route.pathname} is not allowed; use ${match.method}.`,
      ),
    );
    return;
  }
  if (match.method === 'POST' && config.readOnly) {
    sendJson(
      res,
      errorResponse(
        403,
        'RESEOLIO_READ_ONLY',
        'This dashboard is read-only: actions are turned off (readOnly: true).',
      ),
    );
    return;
  }
  if (match.method === 'POST' && !isJson(req.headers['content-type'])) {
    sendJson(
      res,
      errorResponse(
        415,
        'RESEOLIO_UNSUPPORTED_MEDIA_TYPE',
        'Send actions with Content-Type: application/json (an empty body is {}).',
      ),
    );
    return;
  }
  const answer = await runJobApi(
    engine,
    async () => {
      const body = match.method === 'POST' ? await readJsonBody(req) : undefined;
      return match.run(engine, route.query, body, req, config.stuckAfterMs);
    },
    (error) => config.logger.error('Reseolio dashboard: the job database failed', error),
  );
  sendJson(res, answer);
}

/**
 * Actions must be JSON. A browser sends JSON to another origin only after a CORS preflight,
 * which this server never grants, so another site cannot post actions with the operator's
 * cookies (a plain HTML form can only send form and text types).
 */
function isJson(type: string | undefined): boolean {
  return type !== undefined && /^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type);
}

type Run = (
  engine: Reseolio,
  query: URLSearchParams,
  body: unknown,
  req: IncomingMessage,
  stuckAfterMs: number,
) => Promise<ApiResponse>;

interface ApiMatch {
  method: 'GET' | 'POST';
  run: Run;
}

/** The API's routes, by path segments after `api`. */
function matchApi(segments: string[]): ApiMatch | undefined {
  const [a, b, c, d, ...rest] = segments;
  if (rest.length > 0) return undefined;
  const get = (run: Run): ApiMatch => ({ method: 'GET', run });
  const post = (run: Run): ApiMatch => ({ method: 'POST', run });
  if (a === 'overview' && b === undefined) {
    return get((engine, _q, _b, _r, stuckAfterMs) => sharedOverview(engine, stuckAfterMs)());
  }
  if (a === 'jobs') {
    if (b === undefined) return get((engine, query) => listJobs(engine, query));
    if (b === 'count' && c === undefined) return get((engine, query) => countJobs(engine, query));
    if (b === 'bulk' && (c === 'retry' || c === 'cancel') && d === undefined) {
      return post((engine, query, body) => bulkAction(engine, c, query, body));
    }
    if (c === undefined) return get((engine) => jobPage(engine, b));
    if (c === 'retry' && d === undefined) return post((engine) => retryJob(engine, b));
    if (c === 'cancel' && d === undefined) return post((engine) => cancelJob(engine, b));
    if (c === 'signals' && d !== undefined) {
      return post((engine, _q, body, req) =>
        signalJob(engine, b, d, parseSignalBody(body, req.headers)),
      );
    }
    return undefined;
  }
  if (a === 'schedules') {
    if (b === undefined) return get((engine, query) => listSchedules(engine, query));
    const action = { pause: pauseSchedule, resume: resumeSchedule }[c ?? ''];
    if (action !== undefined && d === undefined) {
      return post(async (engine) => withCronText(await action(engine, b)));
    }
    if (c === 'trigger' && d === undefined) return post((engine) => triggerSchedule(engine, b));
    return undefined;
  }
  return undefined;
}

/**
 * The overview, read at most once a second per engine however many tabs poll it: its counts
 * are the dearest read of the dashboard on a large table (every tab polls every 2 s).
 */
const overviews = new WeakMap<Reseolio, Map<number, () => Promise<ApiResponse>>>();
const OVERVIEW_MAX_AGE_MS = 1000;

function sharedOverview(engine: Reseolio, stuckAfterMs: number): () => Promise<ApiResponse> {
  let byThreshold = overviews.get(engine);
  if (byThreshold === undefined) {
    byThreshold = new Map();
    overviews.set(engine, byThreshold);
  }
  let read = byThreshold.get(stuckAfterMs);
  if (read === undefined) {
    read = coalesce(OVERVIEW_MAX_AGE_MS, () => overview(engine, stuckAfterMs));
    byThreshold.set(stuckAfterMs, read);
  }
  return read;
}

/** Adds the cron in words to a `{ schedule }` answer, so the page updates the row as it is. */
function withCronText(answer: ApiResponse): ApiResponse {
  const { schedule } = answer.body as { schedule?: Parameters<typeof toScheduleView>[0] };
  return schedule === undefined
    ? answer
    : { ...answer, body: { schedule: toScheduleView(schedule) } };
}
