import { describeValue } from '../describe-value.ts';
import { MAX_TIMER_MS } from '../options/bounds.ts';
import type { AuthorizeFn } from './authorize.ts';
import { IntegrationConfigError } from './integration-error.ts';
import { DEFAULT_WAIT_MAX_MS } from './job-api.ts';

/** The job routes' options, the same in every framework (Express mounts without `prefix`). */
export interface JobRoutesOptions<Req> {
  /** Where the routes are mounted (Fastify, Nest). @default '/jobs' */
  prefix?: string | undefined;
  /**
   * Runs before every job route, before its params and query are read. Return `true` to
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
}

const DEFAULT_PREFIX = '/jobs';

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
    ? ['prefix', 'authorize', 'public', 'waitMaxMs']
    : ['authorize', 'public', 'waitMaxMs'];
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    throw new IntegrationConfigError(
      key === 'prefix'
        ? `${where} takes no prefix: mount the routes where you want them, e.g. app.use('/jobs', …).`
        : `Unknown ${where} option ${describeValue(key)}; known options: ${known.join(', ')}.`,
    );
  }
  const { authorize, public: isPublic, waitMaxMs, prefix } = options as Record<string, unknown>;
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
      `The job routes expose job arguments and results: give ${where}.authorize ` +
        '(request) => boolean, or set public: true if anyone who can reach them may see jobs.',
    );
  }
  if (authorize !== undefined && isPublic === true) {
    throw new IntegrationConfigError(`Give either ${where}.authorize or public: true, not both.`);
  }
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
  return {
    authorize: (authorize as AuthorizeFn<Req> | undefined) ?? null,
    waitMaxMs: wait,
    prefix: mount,
  };
}
