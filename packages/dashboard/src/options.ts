import type { IncomingMessage } from 'node:http';
import { describeValue, type Logger, Reseolio } from 'reseolio';
import {
  type AuthorizeFn,
  assertKnownRouteOptions,
  IntegrationConfigError,
  resolveAuthorize,
} from 'reseolio/http';

/** Options of {@link createDashboard}. */
export interface DashboardOptions<Req = IncomingMessage> {
  /** An initialized engine (`init()` done); its worker may be off. */
  instance: Reseolio;
  /**
   * Runs before every request: the page, its assets and its API. Return `true` to allow; any
   * other value answers 403. Throw an error with `status: 401` (`statusCode` works too) to
   * answer 401; any other throw answers 500 and is logged, never sent. The same semantics as
   * the job routes' `authorize` (`reseolio/http`).
   */
  authorize?: AuthorizeFn<Req> | undefined;
  /** Serve the dashboard without `authorize`. Required to make that choice explicit. */
  public?: true | undefined;
  /**
   * Hide every action (retry, cancel, signal, bulk actions, schedule pause/resume/trigger)
   * and refuse them with 403 `RESEOLIO_READ_ONLY`. @default false
   */
  readOnly?: boolean | undefined;
  /** The page title and heading. @default 'Reseolio' */
  title?: string | undefined;
  /**
   * How old the oldest due, not running job of a function may get before the overview raises
   * an alert, in milliseconds. An integer from 1000 to 2147483647. @default 300000 (5 minutes)
   */
  stuckAfterMs?: number | undefined;
  /** Where failures of `authorize` and of the database are logged. @default console */
  logger?: Logger | undefined;
}

/** {@link DashboardOptions}, validated. */
export interface ResolvedDashboardOptions<Req> {
  instance: Reseolio;
  /** `null` when the dashboard was made public on purpose. */
  authorize: AuthorizeFn<Req> | null;
  readOnly: boolean;
  title: string;
  stuckAfterMs: number;
  logger: Logger;
}

/** The default of {@link DashboardOptions.stuckAfterMs}: 5 minutes. */
export const DEFAULT_STUCK_AFTER_MS = 300_000;
/** The default of {@link DashboardOptions.title}. */
export const DEFAULT_TITLE = 'Reseolio';

const KNOWN = ['instance', 'authorize', 'public', 'readOnly', 'title', 'stuckAfterMs', 'logger'];
const MAX_STUCK_AFTER_MS = 2_147_483_647;

/**
 * Validates the dashboard's options. The dashboard shows job arguments and results and can
 * retry and cancel work, so it is never open by accident: one of `authorize` or
 * `public: true` is required, as for the job routes.
 * @throws IntegrationConfigError (code `RESEOLIO_INVALID_OPTION`) naming the option and what
 *   to pass instead
 */
export function resolveDashboardOptions<Req>(
  options: unknown,
  where = 'createDashboard(options)',
): ResolvedDashboardOptions<Req> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new IntegrationConfigError(
      `${where} must be an object such as { instance: reseolio, authorize: (request) => boolean }.`,
    );
  }
  assertKnownRouteOptions(options, KNOWN, where);
  const record = options as Record<string, unknown>;
  const { instance, readOnly, title, stuckAfterMs, logger } = record;
  if (!(instance instanceof Reseolio)) {
    throw new IntegrationConfigError(
      `${where}.instance must be a Reseolio engine (new Reseolio({ storage })), got ${describeValue(instance)}.`,
    );
  }
  const authorize = resolveAuthorize<Req>(
    record,
    where,
    'The dashboard shows job arguments and results and can retry and cancel jobs',
  );
  if (readOnly !== undefined && typeof readOnly !== 'boolean') {
    throw new IntegrationConfigError(
      `${where}.readOnly must be true or false, got ${describeValue(readOnly)}.`,
    );
  }
  if (title !== undefined && (typeof title !== 'string' || title.trim() === '')) {
    throw new IntegrationConfigError(
      `${where}.title must be a non-empty string, got ${describeValue(title)}.`,
    );
  }
  const stuck = stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS;
  if (
    typeof stuck !== 'number' ||
    !Number.isInteger(stuck) ||
    stuck < 1000 ||
    stuck > MAX_STUCK_AFTER_MS
  ) {
    throw new IntegrationConfigError(
      `${where}.stuckAfterMs must be an integer number of milliseconds from 1000 to ${MAX_STUCK_AFTER_MS}, got ${describeValue(stuckAfterMs)}.`,
    );
  }
  if (logger !== undefined && !isLogger(logger)) {
    throw new IntegrationConfigError(
      `${where}.logger must have error(message) and warn(message) methods, such as console.`,
    );
  }
  return {
    instance,
    authorize,
    readOnly: readOnly ?? false,
    title: title ?? DEFAULT_TITLE,
    stuckAfterMs: stuck,
    logger: (logger as Logger | undefined) ?? console,
  };
}

function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const { error, warn } = value as { error?: unknown; warn?: unknown };
  return typeof error === 'function' && typeof warn === 'function';
}
