/**
 * The job routes, relative to where they are mounted. Fastify and Nest register one route
 * per row; Express matches requests against the rows itself (see `matchJobRoute`).
 */
export const JOB_ROUTES = Object.freeze([
  { method: 'GET', path: '/', action: 'list' },
  { method: 'GET', path: '/:id', action: 'get' },
  { method: 'POST', path: '/:id/retry', action: 'retry' },
  { method: 'POST', path: '/:id/cancel', action: 'cancel' },
  { method: 'GET', path: '/:id/result', action: 'result' },
  { method: 'POST', path: '/:id/signals/:topic', action: 'signal' },
] as const);

/** One row of {@link JOB_ROUTES}. */
export type JobRoute = (typeof JOB_ROUTES)[number];
/** What a job route does: `list`, `get`, `retry`, `cancel`, `result` or `signal`. */
export type JobRouteAction = JobRoute['action'];

/**
 * The schedule routes, relative to where they are mounted (`/schedules` by default). Served
 * behind the same `authorize` (or `public: true`) as the job routes.
 */
export const SCHEDULE_ROUTES = Object.freeze([
  { method: 'GET', path: '/', action: 'list' },
  { method: 'GET', path: '/:id', action: 'get' },
  { method: 'POST', path: '/:id/pause', action: 'pause' },
  { method: 'POST', path: '/:id/resume', action: 'resume' },
  { method: 'POST', path: '/:id/trigger', action: 'trigger' },
] as const);

/** One row of {@link SCHEDULE_ROUTES}. */
export type ScheduleRoute = (typeof SCHEDULE_ROUTES)[number];
/** What a schedule route does: `list`, `get`, `pause`, `resume` or `trigger`. */
export type ScheduleRouteAction = ScheduleRoute['action'];

/** A row of either table. */
interface RouteRow<Action extends string> {
  readonly method: string;
  readonly path: string;
  readonly action: Action;
}

/** A matched route: its action and decoded path parameters. */
export interface RouteMatch<Action extends string> {
  action: Action;
  /** The decoded `:id`; `null` when it is not valid URL encoding; `undefined` without one. */
  id: string | null | undefined;
  /** The decoded `:topic` (`POST /:id/signals/:topic`), `null`/`undefined` as for `id`. */
  topic?: string | null | undefined;
}

/**
 * The route a request is for, with its decoded `:id` (and `:topic`); a parameter is `null`
 * when its path segment is not valid URL encoding (answered 400). `undefined` when no route
 * matches, so the request belongs to someone else.
 * @param path relative to the mount point, without the query: `/`, `/<id>`, `/<id>/retry`,
 *   `/<id>/signals/<topic>`
 */
export function matchJobRoute(
  method: string,
  path: string,
): RouteMatch<JobRouteAction> | undefined {
  return matchRoute(JOB_ROUTES, method, path);
}

/** {@link matchJobRoute} for the schedule routes: `/`, `/<id>`, `/<id>/pause`… */
export function matchScheduleRoute(
  method: string,
  path: string,
): RouteMatch<ScheduleRouteAction> | undefined {
  return matchRoute(SCHEDULE_ROUTES, method, path);
}

function matchRoute<Action extends string>(
  table: readonly RouteRow<Action>[],
  method: string,
  path: string,
): RouteMatch<Action> | undefined {
  const segments = path.split('/').slice(1);
  for (const route of table) {
    const pattern = route.path.split('/').slice(1);
    if (route.method !== method || pattern.length !== segments.length) continue;
    const params: Record<string, string | null> = {};
    const matches = pattern.every((part, i) => {
      const segment = segments[i]!;
      if (!part.startsWith(':')) return part === segment;
      if (segment === '') return false;
      params[part.slice(1)] = decodeSegment(segment);
      return true;
    });
    if (!matches) continue;
    const match: RouteMatch<Action> = { action: route.action, id: params.id };
    if ('topic' in params) match.topic = params.topic;
    return match;
  }
  return undefined;
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
