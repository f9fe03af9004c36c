import { describeValue } from '../describe-value.ts';
import { ReseolioValidationError } from '../errors.ts';
import { MAX_LIST_LIMIT, MAX_LIST_OFFSET, MAX_TIMER_MS } from '../options/bounds.ts';
import { DEFAULT_LIST_LIMIT } from '../options/defaults.ts';
import {
  assertKnownKeys,
  assertPlainObject,
  integer,
  invalid,
  unstorableText,
} from '../options/validators.ts';
import { serialize } from '../serialization/encode.ts';
import {
  SCHEDULE_STATUSES,
  type ScheduleCatchUp,
  type ScheduleDefinition,
  type ScheduleFilter,
  type ScheduleOverlap,
} from '../storage/schedule-records.ts';
import { type ParsedSchedule, parseSchedule } from './cron.ts';

/**
 * Validates schedule arguments at the edge: a bad cron, zone, option or argument list throws
 * a typed error before anything is stored.
 */

export const DEFAULT_TIMEZONE = 'UTC';
export const DEFAULT_CATCH_UP: ScheduleCatchUp = 'latest';
export const DEFAULT_OVERLAP: ScheduleOverlap = 'allow';
/** `catchUp: 'all'` runs ticks of at most the last day by default. */
export const DEFAULT_CATCH_UP_WINDOW_MS = 86_400_000;

const CATCH_UPS: readonly ScheduleCatchUp[] = ['skip', 'latest', 'all'];
const OVERLAPS: readonly ScheduleOverlap[] = ['allow', 'skip'];
const OPTION_KEYS = ['cron', 'timezone', 'args', 'catchUp', 'catchUpWindowMs', 'overlap'];

/** A schedule id: 1-200 characters that every adapter stores as given. */
export function validateScheduleId(id: unknown): string {
  const problem =
    typeof id !== 'string' || id.length === 0 || id.length > 200
      ? 'use a string of 1-200 characters'
      : unstorableText(id);
  if (problem !== undefined) {
    throw new ReseolioValidationError(
      `Invalid schedule id ${describeValue(id)}: ${problem} (for example 'reports:daily').`,
      'RESEOLIO_INVALID_SCHEDULE',
    );
  }
  return id as string;
}

/** What `schedule()` stores, with its parsed cron for the first next-run computation. */
export interface ResolvedSchedule {
  definition: Omit<ScheduleDefinition, 'name'>;
  parsed: ParsedSchedule;
}

/** `schedule(id, fn, options)`: every field checked, defaults filled, args serialized. */
export function resolveScheduleOptions(options: unknown): ResolvedSchedule {
  const where = 'schedule() options';
  assertPlainObject(options, where);
  const o = options as Record<string, unknown>;
  assertKnownKeys(o, OPTION_KEYS, where);
  if (o.cron === undefined) {
    throw new ReseolioValidationError(
      "schedule() options need a cron expression, e.g. { cron: '0 9 * * 1-5' }.",
      'RESEOLIO_INVALID_SCHEDULE',
    );
  }
  const parsed = parseSchedule(o.cron, o.timezone ?? DEFAULT_TIMEZONE);
  return {
    parsed,
    definition: {
      cron: parsed.cron,
      timezone: parsed.timezone,
      args: serializeArgs(o.args ?? [], where),
      catchUp: oneOf(o, 'catchUp', CATCH_UPS, DEFAULT_CATCH_UP, where),
      catchUpWindowMs: integer(
        o,
        'catchUpWindowMs',
        DEFAULT_CATCH_UP_WINDOW_MS,
        1,
        MAX_TIMER_MS,
        where,
      ),
      overlap: oneOf(o, 'overlap', OVERLAPS, DEFAULT_OVERLAP, where),
    },
  };
}

/**
 * `updateSchedule(id, patch)`: only the fields given, checked as `schedule()` checks them.
 * A new cron or zone is checked together with the stored other half (`current`).
 */
export function resolveSchedulePatch(
  patch: unknown,
  current: { cron: string; timezone: string },
): { patch: Partial<Omit<ScheduleDefinition, 'name'>>; parsed?: ParsedSchedule } {
  const where = 'updateSchedule() patch';
  assertPlainObject(patch, where);
  const p = patch as Record<string, unknown>;
  assertKnownKeys(p, OPTION_KEYS, where);
  const resolved: Partial<Omit<ScheduleDefinition, 'name'>> = {};
  let parsed: ParsedSchedule | undefined;
  if (p.cron !== undefined || p.timezone !== undefined) {
    parsed = parseSchedule(p.cron ?? current.cron, p.timezone ?? current.timezone);
    resolved.cron = parsed.cron;
    resolved.timezone = parsed.timezone;
  }
  if (p.args !== undefined) resolved.args = serializeArgs(p.args, where);
  if (p.catchUp !== undefined) {
    resolved.catchUp = oneOf(p, 'catchUp', CATCH_UPS, DEFAULT_CATCH_UP, where);
  }
  if (p.catchUpWindowMs !== undefined) {
    resolved.catchUpWindowMs = integer(p, 'catchUpWindowMs', 0, 1, MAX_TIMER_MS, where);
  }
  if (p.overlap !== undefined) {
    resolved.overlap = oneOf(p, 'overlap', OVERLAPS, DEFAULT_OVERLAP, where);
  }
  return parsed ? { patch: resolved, parsed } : { patch: resolved };
}

/** `listSchedules(filter)`: validated, `limit` and `offset` filled. */
export function resolveScheduleFilter(
  filter: unknown,
): ScheduleFilter & { limit: number; offset: number } {
  const where = 'listSchedules() filter';
  if (filter === undefined) return { limit: DEFAULT_LIST_LIMIT, offset: 0 };
  assertPlainObject(filter, where);
  const f = filter as Record<string, unknown>;
  assertKnownKeys(f, ['status', 'name', 'limit', 'offset'], where);
  const resolved: ScheduleFilter & { limit: number; offset: number } = {
    limit: integer(f, 'limit', DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT, where),
    offset: integer(f, 'offset', 0, 0, MAX_LIST_OFFSET, where),
  };
  if (f.status !== undefined) {
    if (!SCHEDULE_STATUSES.includes(f.status as never)) {
      throw invalid('status', f.status, "'active' or 'paused'", where);
    }
    resolved.status = f.status as ScheduleFilter['status'] & string;
  }
  if (f.name !== undefined) {
    if (typeof f.name !== 'string' || unstorableText(f.name) !== undefined) {
      throw invalid('name', f.name, 'a string without NUL or unpaired surrogates', where);
    }
    resolved.name = f.name;
  }
  return resolved;
}

function serializeArgs(args: unknown, where: string): string {
  if (!Array.isArray(args)) {
    throw invalid('args', args, "the function's argument list as an array", where);
  }
  return serialize(args, 'schedule args');
}

function oneOf<T extends string>(
  options: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
  fallback: T,
  where: string,
): T {
  const value = options[key];
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw invalid(key, value, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, where);
  }
  return value as T;
}
