import { JOB_STATUSES, type JobFilter, type JobStatus } from '../storage/records.ts';
import { MAX_LIST_LIMIT, MAX_LIST_OFFSET, MAX_TIMER_MS, TIMER_RANGE } from './bounds.ts';
import { DEFAULT_LIST_LIMIT, DEFAULT_STOP_TIMEOUT_MS } from './defaults.ts';
import {
  assertKnownKeys,
  assertPlainObject,
  integer,
  invalid,
  isIntegerIn,
  unstorableText,
} from './validators.ts';

/** The arguments of the engine's methods that take options: `result()`, `stop()`, `listJobs()`. */

/** `result(timeoutMs)`: an integer of milliseconds that a timer can wait, or `undefined`. */
export function validateResultTimeout(timeoutMs: unknown): void {
  if (timeoutMs === undefined) return;
  if (!isIntegerIn(timeoutMs, 0, MAX_TIMER_MS)) {
    throw invalid(
      'timeoutMs',
      timeoutMs,
      `an integer from 0 to ${MAX_TIMER_MS} milliseconds (${TIMER_RANGE}); leave it out to wait ` +
        'as long as the job takes',
      'result()',
    );
  }
}

/** `stop({ timeoutMs })`: the drain deadline in milliseconds. */
export function resolveStopTimeout(options: unknown): number {
  if (options === undefined) return DEFAULT_STOP_TIMEOUT_MS;
  assertPlainObject(options, 'stop() options');
  assertKnownKeys(options as Record<string, unknown>, ['timeoutMs'], 'stop() option');
  return integer(
    options,
    'timeoutMs',
    DEFAULT_STOP_TIMEOUT_MS,
    0,
    MAX_TIMER_MS,
    'stop() options',
    ` milliseconds (${TIMER_RANGE})`,
  );
}

/** `listJobs(filter)`: validated, without `undefined` entries, `limit` and `offset` filled. */
export function resolveListFilter(filter: unknown): JobFilter & { limit: number; offset: number } {
  if (filter === undefined) return { limit: DEFAULT_LIST_LIMIT, offset: 0 };
  assertPlainObject(filter, 'listJobs() filter');
  const f = filter as Record<string, unknown>;
  assertKnownKeys(
    f,
    ['status', 'name', 'parentId', 'scheduleId', 'limit', 'offset'],
    'listJobs() filter',
  );
  const resolved: JobFilter & { limit: number; offset: number } = {
    limit: integer(f, 'limit', DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT, 'listJobs() filter'),
    offset: integer(f, 'offset', 0, 0, MAX_LIST_OFFSET, 'listJobs() filter'),
  };
  if (f.status !== undefined) {
    const statuses = Array.isArray(f.status) ? f.status : [f.status];
    if (!statuses.every((s) => JOB_STATUSES.includes(s as JobStatus))) {
      throw invalid(
        'status',
        f.status,
        `one of ${JOB_STATUSES.map((s) => `'${s}'`).join(', ')}, or an array of them`,
        'listJobs() filter',
      );
    }
    resolved.status = f.status as JobStatus | JobStatus[];
  }
  // Compared by storage: text that an adapter cannot store as given must not reach it.
  for (const key of ['name', 'parentId', 'scheduleId'] as const) {
    const value = f[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || unstorableText(value) !== undefined) {
      throw invalid(key, value, 'a string without NUL or unpaired surrogates', 'listJobs() filter');
    }
    resolved[key] = value;
  }
  return resolved;
}
