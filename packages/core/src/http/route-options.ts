import { describeValue } from '../describe-value.ts';
import { MAX_TIMER_MS } from '../options/bounds.ts';
import type { AuthorizeFn } from './authorize.ts';
import { IntegrationConfigError } from './integration-error.ts';
import { DEFAULT_WAIT_MAX_MS } from './job-api.ts';

/** The job routes' options, the same in every framework (Express mounts without `prefix`). */
export interface JobRoutesOptions<Req> {
  /** Where the job routes are mounted (Fastify, Nest). @default '/jobs' */
  prefix?: string | undefined;
  /**
   * Where the schedule routes are mounted (Fastify, Nest), behind the same `authorize`;
   * `false` serves none. On Express, mount `reseolioScheduleRouter` yourself.
   * @default '/schedules'
   */
  schedulePrefix?: string | false | undefined;
  /**
   * Runs before every job and schedule route, before its params and query are read. Return `true` to
   * allow; any other value answers 403. Throw an error with `status: 401` (`statusCode`
   * works too) to answer 401; any other throw answers 500 and is logged through the
   * framework's logger, never sent. No job data reaches a refused caller.
   */
  authorize?: AuthorizeFn<Req> | undefined;
  /** Serve the routes without `authorize`. Required to make that choice explicit. */
  public?: true | undefined;
  /**
   * Upper bound of `waitMs` on `GET /:id/result`, in milliseconds; larger values are capped.
   * Keep it below your proxies' idle timeout. An integer from 0 to 2147483647. @default 25000
   */
  waitMaxMs?: number | undefined;
}

/** {@link JobRoutesOptions}, validated. */
export interface ResolvedJobApiOptions<Req> {
  /** `null` when the routes were made public on purpose. */
  authorize: AuthorizeFn<Req> | null;
  waitMaxMs: number;
  /** `null` where the framework mounts the routes itself (Express). */
  prefix: string | null;
  /** `null` with `schedulePrefix: false`, and where the framework mounts the routes itself. */
  schedulePrefix: string | null;
}

const DEFAULT_PREFIX = '/jobs';
const DEFAULT_SCHEDULE_PREFIX = '/schedules';

/**
 * Validates the job routes' options. Routes that expose job arguments and results must never
 * be open by accident, so one of `authorize` or `public: true` is required.
 * @param where how messages name the options, e.g. `'routes'`
 * @param withPrefix whether `prefix` is an option here; Express mounts with `app.use(path, …)`
 */
export function resolveJobApiOptions<Req>(
  options: unknown,
  where: string,
  { withPrefix = true }: { withPrefix?: boolean } = {},
): ResolvedJobApiOptions<Req> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new IntegrationConfigError(
      `${where} must be an object such as { authorize: (request) => boolean }.`,
    );
  }
  const known = withPrefix
    ? ['prefix', 'schedulePrefix', 'authorize', 'public', 'waitMaxMs']
    : ['authorize', 'public', 'waitMaxMs'];
  assertKnownRouteOptions(options, known, where);
  const { waitMaxMs, prefix, schedulePrefix } = options as Record<string, unknown>;
  const authorizeFn = resolveAuthorize<Req>(options as Record<string, unknown>, where);
  const wait = waitMaxMs ?? DEFAULT_WAIT_MAX_MS;
  if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > MAX_TIMER_MS) {
    throw new IntegrationConfigError(
      `${where}.waitMaxMs must be an integer number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${describeValue(waitMaxMs)}.`,
    );
  }
  const mount = withPrefix ? (prefix ?? DEFAULT_PREFIX) : null;
  if (mount !== null && (typeof mount !== 'string' || !mount.startsWith('/'))) {
    throw new IntegrationConfigError(
      `${where}.prefix must be a path starting with "/", got ${describeValue(prefix)}.`,
    );
  }
  let scheduleMount: string | null = null;
  if (withPrefix && schedulePrefix !== false) {
    scheduleMount = (schedulePrefix ?? DEFAULT_SCHEDULE_PREFIX) as string;
    if (typeof scheduleMount !== 'string' || !scheduleMount.startsWith('/')) {
      throw new IntegrationConfigError(
        `${where}.schedulePrefix must be a path starting with "/", or false to serve no schedule routes, got ${describeValue(schedulePrefix)}.`,
      );
    }
    if (trimSlash(scheduleMount) === trimSlash(mount!)) {
      throw new IntegrationConfigError(
        `${where}.schedulePrefix must differ from ${where}.prefix (both are ${describeValue(scheduleMount)}).`,
      );
    }
  }
  return {
    authorize: authorizeFn,
    waitMaxMs: wait,
    prefix: mount,
    schedulePrefix: scheduleMount,
  };
}

/** The schedule routes' options where they are mounted on their own (Express). */
export interface ScheduleRoutesOptions<Req> {
  /** The same `authorize` as the job routes': see {@link JobRoutesOptions.authorize}. */
  authorize?: AuthorizeFn<Req> | undefined;
  /** Serve the routes without `authorize`. Required to make that choice explicit. */
  public?: true | undefined;
}

/**
 * Validates the options of schedule routes mounted on their own (Express's
 * `reseolioScheduleRouter`): one of `authorize` or `public: true`, as for the job routes.
 */
export function resolveScheduleApiOptions<Req>(
  options: unknown,
  where: string,
): { authorize: AuthorizeFn<Req> | null } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new IntegrationConfigError(
      `${where} must be an object such as { authorize: (request) => boolean }.`,
    );
  }
  assertKnownRouteOptions(options, ['authorize', 'public'], where);
  return { authorize: resolveAuthorize<Req>(options as Record<string, unknown>, where) };
}

/** Throws for a key not in `known`, naming the known ones. */
export function assertKnownRouteOptions(options: object, known: string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    throw new IntegrationConfigError(
      key === 'prefix' || key === 'schedulePrefix'
        ? `${where} takes no ${key}: mount the routes where you want them, e.g. app.use('/jobs', …).`
        : `Unknown ${where} option ${describeValue(key)}; known options: ${known.join(', ')}.`,
    );
  }
}

/**
 * `authorize`, or `null` for `public: true`; exactly one of them is required.
 * @param exposes why the routes need protecting, the start of the message when both are missing
 */
export function resolveAuthorize<Req>(
  options: Record<string, unknown>,
  where: string,
  exposes = 'The job routes expose job arguments and results',
): AuthorizeFn<Req> | null {
  const { authorize, public: isPublic } = options;
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new IntegrationConfigError(
      `${where}.authorize must be a function (request) => boolean | Promise<boolean>.`,
    );
  }
  if (isPublic !== undefined && isPublic !== true) {
    throw new IntegrationConfigError(
      `${where}.public only accepts true; leave it out and pass authorize to protect the routes.`,
    );
  }
  if (authorize === undefined && isPublic !== true) {
    throw new IntegrationConfigError(
      `${exposes}: give ${where}.authorize (request) => boolean, or set public: true if ` +
        'anyone who can reach them may see them.',
    );
  }
  if (authorize !== undefined && isPublic === true) {
    throw new IntegrationConfigError(`Give either ${where}.authorize or public: true, not both.`);
  }
  return (authorize as AuthorizeFn<Req> | undefined) ?? null;
}

function trimSlash(path: string): string {
  return path.replace(/\/+$/, '');
}
