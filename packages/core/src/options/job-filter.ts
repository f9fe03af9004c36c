import {
  JOB_STATUSES,
  type JobCountFilter,
  type JobFilter,
  type JobStatus,
} from '../storage/records.ts';
import type { BulkChangeOptions } from '../types.ts';
import { MAX_LIST_LIMIT, MAX_LIST_OFFSET, MAX_TIME_MS } from './bounds.ts';
import { DEFAULT_LIST_LIMIT } from './defaults.ts';
import {
  assertKnownKeys,
  assertPlainObject,
  integer,
  invalid,
  unstorableText,
} from './validators.ts';

/**
 * The job filters of `listJobs()`, `countJobs()`, `retryJobs()` and `cancelJobs()`: validated
 * here, so adapters only ever compare well-formed values.
 */

/** A job id as the engine makes them (UUIDv7), or any UUID: what a `before` cursor must be. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const COUNT_KEYS = [
  'status',
  'name',
  'parentId',
  'scheduleId',
  'idempotencyKey',
  'createdAfter',
  'createdBefore',
] as const;
const LIST_KEYS = [...COUNT_KEYS, 'before', 'limit', 'offset'] as const;

/** `listJobs(filter)`: validated, without `undefined` entries, `limit` and `offset` filled. */
export function resolveListFilter(filter: unknown): JobFilter & { limit: number; offset: number } {
  const where = 'listJobs() filter';
  if (filter === undefined) return { limit: DEFAULT_LIST_LIMIT, offset: 0 };
  assertPlainObject(filter, where);
  const f = filter as Record<string, unknown>;
  assertKnownKeys(f, LIST_KEYS, where);
  const resolved: JobFilter & { limit: number; offset: number } = {
    ...conditions(f, where),
    limit: integer(f, 'limit', DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT, where),
    offset: integer(f, 'offset', 0, 0, MAX_LIST_OFFSET, where),
  };
  if (f.before !== undefined) {
    if (typeof f.before !== 'string' || !UUID.test(f.before)) {
      throw invalid(
        'before',
        f.before,
        'a job id (a UUID such as 0193a5c4-0c3e-7a51-9a8e-3c1f0e5d2b11): pass the id of the ' +
          'last job of the previous page',
        where,
      );
    }
    // Lower case: both SQL adapters compare ids as text in some paths.
    resolved.before = f.before.toLowerCase();
  }
  return resolved;
}

/** `countJobs(filter)`, and the filter of the bulk actions (`what` names the method). */
export function resolveCountFilter(filter: unknown, what = 'countJobs() filter'): JobCountFilter {
  if (filter === undefined) return {};
  assertPlainObject(filter, what);
  const f = filter as Record<string, unknown>;
  for (const key of ['before', 'limit', 'offset']) {
    if (f[key] !== undefined) {
      throw invalid(
        key,
        f[key],
        'no paging option: this method covers every matching job (use listJobs() for pages)',
        what,
      );
    }
  }
  assertKnownKeys(f, COUNT_KEYS, what);
  return conditions(f, what);
}

/** `retryJobs(filter, options)` and `cancelJobs(filter, options)`: the options. */
export function resolveBulkOptions(options: unknown, what: string): { limit: number } {
  if (options === undefined) return { limit: Number.MAX_SAFE_INTEGER };
  assertPlainObject(options, what);
  assertKnownKeys(
    options as Record<string, unknown>,
    ['limit'] satisfies (keyof BulkChangeOptions)[],
    what,
  );
  return {
    limit: integer(options, 'limit', Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER, what),
  };
}

/** The conditions every filter shares. */
function conditions(f: Record<string, unknown>, where: string): JobCountFilter {
  const resolved: JobCountFilter = {};
  if (f.status !== undefined) {
    const statuses = Array.isArray(f.status) ? f.status : [f.status];
    if (!statuses.every((s) => JOB_STATUSES.includes(s as JobStatus))) {
      throw invalid(
        'status',
        f.status,
        `one of ${JOB_STATUSES.map((s) => `'${s}'`).join(', ')}, or an array of them`,
        where,
      );
    }
    resolved.status = f.status as JobStatus | JobStatus[];
  }
  // Compared by storage: text that an adapter cannot store as given must not reach it.
  for (const key of ['name', 'parentId', 'scheduleId', 'idempotencyKey'] as const) {
    const value = f[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || unstorableText(value) !== undefined) {
      throw invalid(key, value, 'a string without NUL or unpaired surrogates', where);
    }
    resolved[key] = value;
  }
  for (const key of ['createdAfter', 'createdBefore'] as const) {
    if (f[key] === undefined) continue;
    // Whole milliseconds in the stored range.
    resolved[key] = integer(
      f,
      key,
      0,
      0,
      MAX_TIME_MS,
      where,
      ' epoch milliseconds (e.g. Date.now() - 3600000, or date.getTime())',
    );
  }
  return resolved;
}
