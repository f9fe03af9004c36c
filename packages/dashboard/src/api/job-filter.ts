import { type JobFilter, type JobStatus, ReseolioValidationError } from 'reseolio';
import { JOB_STATUSES } from 'reseolio/http';
import { FILTER_KEYS } from '../filter-keys.ts';

/** The dashboard's job list: 50 rows a page, so a page renders at once on a slow link. */
export const DEFAULT_PAGE_SIZE = 50;
/** The most rows one page may ask for. */
export const MAX_PAGE_SIZE = 500;

/** A job filter the dashboard reads from a query string: what the list, counts and bulk share. */
export interface DashboardJobFilter {
  status?: JobStatus[] | undefined;
  name?: string | undefined;
  idempotencyKey?: string | undefined;
  scheduleId?: string | undefined;
  parentId?: string | undefined;
  /** Epoch ms, inclusive. */
  createdAfter?: number | undefined;
  /** Epoch ms, exclusive. */
  createdBefore?: number | undefined;
}

/**
 * Parses `status` (one, or several comma-separated: `dead,cancelled`), `name`,
 * `idempotencyKey`, `scheduleId`, `parentId`, `createdAfter` and `createdBefore` (an ISO date
 * or epoch milliseconds). Each key may be given once. Any other key is refused, so a typo
 * (`stauts=dead`) never widens a bulk action to every job. Errors are
 * `ReseolioValidationError`, answered 400 with the message.
 * @param alsoAllowed further keys the caller reads itself (the list's `before` and `limit`)
 */
export function parseJobFilter(
  query: URLSearchParams,
  alsoAllowed: readonly string[] = [],
): DashboardJobFilter {
  for (const key of new Set(query.keys())) {
    if (!(FILTER_KEYS as readonly string[]).includes(key) && !alsoAllowed.includes(key)) {
      throw new ReseolioValidationError(
        `querystring/${key} is not a job filter; use ${[...FILTER_KEYS, ...alsoAllowed].join(', ')}.`,
      );
    }
  }
  const status = one(query, 'status');
  let statuses: JobStatus[] | undefined;
  if (status !== undefined) {
    statuses = status.split(',').map((part) => {
      const value = part.trim() as JobStatus;
      if (!JOB_STATUSES.includes(value)) {
        throw new ReseolioValidationError(
          `querystring/status must be one or more of ${JOB_STATUSES.join(', ')} (comma-separated), got "${status}".`,
        );
      }
      return value;
    });
  }
  const createdAfter = time(query, 'createdAfter');
  const createdBefore = time(query, 'createdBefore');
  if (createdAfter !== undefined && createdBefore !== undefined && createdAfter >= createdBefore) {
    throw new ReseolioValidationError(
      'querystring/createdAfter must be earlier than querystring/createdBefore.',
    );
  }
  return dropUndefined({
    status: statuses,
    name: text(query, 'name'),
    idempotencyKey: text(query, 'idempotencyKey'),
    scheduleId: text(query, 'scheduleId'),
    parentId: text(query, 'parentId'),
    createdAfter,
    createdBefore,
  });
}

/** The list's page: `limit` (1 to 500, default 50) and the keyset cursor `before` (a job id). */
export function parsePage(query: URLSearchParams): { limit: number; before?: string } {
  const limitText = one(query, 'limit');
  let limit = DEFAULT_PAGE_SIZE;
  if (limitText !== undefined) {
    limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new ReseolioValidationError(
        `querystring/limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got "${limitText}".`,
      );
    }
  }
  const before = text(query, 'before');
  return before === undefined ? { limit } : { limit, before };
}

/** The filter as the engine takes it. */
export function toEngineFilter(filter: DashboardJobFilter): JobFilter {
  const { status, ...rest } = filter;
  return dropUndefined({ ...rest, status: status?.length === 1 ? status[0] : status });
}

/**
 * The filter narrowed to the statuses an action applies to (retry: dead and cancelled; cancel:
 * pending, running, waiting), or `null` when the filter's own statuses leave none.
 */
export function narrowToStatuses(
  filter: DashboardJobFilter,
  applicable: readonly JobStatus[],
): DashboardJobFilter | null {
  const status = (filter.status ?? applicable).filter((s) => applicable.includes(s));
  return status.length === 0 ? null : { ...filter, status };
}

function one(query: URLSearchParams, key: string): string | undefined {
  const values = query.getAll(key);
  if (values.length > 1) {
    throw new ReseolioValidationError(`querystring/${key} must be given once.`);
  }
  return values[0];
}

function text(query: URLSearchParams, key: string): string | undefined {
  const value = one(query, key);
  if (value === '') {
    throw new ReseolioValidationError(
      `querystring/${key} must not be empty; leave it out to match any.`,
    );
  }
  return value;
}

function time(query: URLSearchParams, key: string): number | undefined {
  const value = text(query, key);
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms)) {
    throw new ReseolioValidationError(
      `querystring/${key} must be an ISO date (2026-01-31T12:00:00Z) or epoch milliseconds, got "${value}".`,
    );
  }
  return ms;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
