import { describeValue } from '../describe-value.ts';
import { MAX_TIMER_MS } from '../options/bounds.ts';
import type { AuthorizeFn } from './authorize.ts';
import { IntegrationConfigError } from './integration-error.ts';
import { assertKnownRouteOptions, resolveAuthorize } from './route-options.ts';

/**
 * The dashboard's options in object form: `dashboard: { prefix, authorize, readOnly }`. The
 * dashboard (`@reseolio/dashboard`, installed beside the integration) is a web UI over every
 * job, schedule and attempt, with retry, cancel, signal, pause, resume and trigger actions.
 */
export interface DashboardRouteOptions<Req> {
  /**
   * Where the dashboard is served (Fastify, Nest; on Express, mount it yourself). It owns
   * every path under it; the bare prefix redirects to the prefix with a trailing slash,
   * because the page loads its assets and API by relative URLs. @default '/dashboard'
   */
  prefix?: string | undefined;
  /**
   * Decides whether a request may use the dashboard (the page, its assets, its API and its
   * actions), as the job routes' `authorize` does: return `true` to allow, anything else
   * answers 403; throw an error with `status: 401` for 401.
   * @default the job routes' `authorize` (or their `public: true`) where the integration
   *   serves them; required otherwise, unless `public: true`
   */
  authorize?: AuthorizeFn<Req> | undefined;
  /**
   * Serve the dashboard to anyone who can reach it, even when the job routes are behind
   * `authorize`. It shows job arguments, results and errors, and can act on jobs unless
   * `readOnly`.
   */
  public?: true | undefined;
  /** Hide every action and refuse each with 403: a dashboard to look, not to touch. @default false */
  readOnly?: boolean | undefined;
  /** The page's title and heading. @default 'Reseolio' */
  title?: string | undefined;
  /**
   * Alert when the oldest pending job of a function has waited longer than this, in
   * milliseconds, an integer from 1000 to 2147483647. @default 300000 (5 minutes)
   */
  stuckAfterMs?: number | undefined;
}

/**
 * The `dashboard` option of `@reseolio/fastify` and `@reseolio/nestjs`: `true` serves it at
 * `/dashboard`, a string at that prefix, an object says more (see
 * {@link DashboardRouteOptions}). Behind the job routes' `authorize` unless it has its own,
 * or `public: true`.
 */
export type DashboardOption<Req> = true | string | DashboardRouteOptions<Req>;

/** {@link DashboardOption}, validated. */
export interface ResolvedDashboardOptions<Req> {
  /** Without a trailing slash; `null` where the framework mounts the dashboard itself (Express). */
  prefix: string | null;
  /** `null` when the dashboard is public. */
  authorize: AuthorizeFn<Req> | null;
  readOnly: boolean;
  /** `undefined`: the dashboard's own default. */
  title: string | undefined;
  /** `undefined`: the dashboard's own default. */
  stuckAfterMs: number | undefined;
}

/** The dashboard's prefix unless the option names another. */
export const DEFAULT_DASHBOARD_PREFIX = '/dashboard';

const EXPOSES = 'The dashboard shows job arguments, results and errors, and acts on jobs';
const OWN_KEYS = ['authorize', 'public', 'readOnly', 'title', 'stuckAfterMs'];

/**
 * Validates the `dashboard` option. Its `authorize` is its own, or else the job routes'
 * (`inherited`: their resolved `authorize`, `null` when they are public); with neither,
 * `authorize` or `public: true` is required, as for the job routes.
 * @param where how messages name the option, e.g. `'dashboard'`
 * @param inherited the job routes' `authorize` where the integration serves them, else `undefined`
 * @param withPrefix whether `prefix` is an option here; Express mounts with `app.use(prefix, …)`
 * @returns `null` for `undefined` or `false` (no dashboard)
 */
export function resolveDashboardOptions<Req>(
  option: unknown,
  where: string,
  {
    inherited,
    withPrefix = true,
  }: { inherited?: AuthorizeFn<Req> | null | undefined; withPrefix?: boolean } = {},
): ResolvedDashboardOptions<Req> | null {
  if (option === undefined || option === false) return null;
  const object = expandShorthand(option, where, withPrefix);
  if (!withPrefix && 'prefix' in object) {
    throw new IntegrationConfigError(
      `${where} takes no prefix: mount the dashboard where you want it, e.g. app.use('/dashboard', …).`,
    );
  }
  assertKnownRouteOptions(object, withPrefix ? ['prefix', ...OWN_KEYS] : OWN_KEYS, where);
  const { prefix = DEFAULT_DASHBOARD_PREFIX, readOnly = false, title, stuckAfterMs } = object;
  if (withPrefix && (typeof prefix !== 'string' || !/^\/.*[^/]$/.test(prefix))) {
    throw new IntegrationConfigError(
      `${where}.prefix must be a path starting with "/" other than "/" itself (the dashboard ` +
        `owns every path under it), such as '/dashboard'; got ${describeValue(prefix)}.`,
    );
  }
  if (typeof readOnly !== 'boolean') {
    throw new IntegrationConfigError(
      `${where}.readOnly must be true or false, got ${describeValue(readOnly)}.`,
    );
  }
  if (title !== undefined && (typeof title !== 'string' || title.trim() === '')) {
    throw new IntegrationConfigError(
      `${where}.title must be a non-empty string, got ${describeValue(title)}.`,
    );
  }
  if (
    stuckAfterMs !== undefined &&
    (typeof stuckAfterMs !== 'number' ||
      !Number.isInteger(stuckAfterMs) ||
      stuckAfterMs < 1000 ||
      stuckAfterMs > MAX_TIMER_MS)
  ) {
    throw new IntegrationConfigError(
      `${where}.stuckAfterMs must be an integer number of milliseconds from 1000 to ${MAX_TIMER_MS}, got ${describeValue(stuckAfterMs)}.`,
    );
  }
  const ownAccess = object.authorize !== undefined || object.public !== undefined;
  const authorize =
    ownAccess || inherited === undefined
      ? resolveAuthorize<Req>(object, where, EXPOSES)
      : inherited;
  return {
    prefix: withPrefix ? (prefix as string) : null,
    authorize,
    readOnly,
    title: title as string | undefined,
    stuckAfterMs: stuckAfterMs as number | undefined,
  };
}

function expandShorthand(
  option: unknown,
  where: string,
  withPrefix: boolean,
): Record<string, unknown> {
  if (withPrefix && option === true) return {};
  if (withPrefix && typeof option === 'string') return { prefix: option };
  if (typeof option === 'object' && option !== null && !Array.isArray(option)) {
    return option as Record<string, unknown>;
  }
  throw new IntegrationConfigError(
    withPrefix
      ? `${where} must be true, a prefix such as '/dashboard', or an object such as { prefix, authorize, readOnly }; got ${describeValue(option)}.`
      : `${where} must be an object such as { authorize: (request) => boolean }; got ${describeValue(option)}.`,
  );
}
