import type {
  ScheduleCatchUp,
  ScheduleOverlap,
  ScheduleRecord,
  ScheduleStatus,
} from 'reseolio/storage';
import type { Row } from './sql-executor.ts';

/** The column list every schedule query returns, in `ScheduleRecord` order. */
export const SCHEDULE_COLUMNS =
  'id, name, cron, timezone, args, status, catch_up, overlap, catch_up_window_ms, ' +
  'next_run_at, last_run_at, last_job_id, created_at, updated_at';

/**
 * Schedule ids are the application's text, ordered as the memory storage orders them (by code
 * point), whatever the database's default collation: `ORDER BY id COLLATE "C"`.
 */
export const SCHEDULE_ID_ORDER = 'id COLLATE "C"';

// node-postgres returns int8 as a string; epoch ms and window lengths fit in a double.
function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function toScheduleRecord(row: Row): ScheduleRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    cron: row.cron as string,
    timezone: row.timezone as string,
    args: row.args as string,
    status: row.status as ScheduleStatus,
    catchUp: row.catch_up as ScheduleCatchUp,
    overlap: row.overlap as ScheduleOverlap,
    catchUpWindowMs: Number(row.catch_up_window_ms),
    nextRunAt: toNumberOrNull(row.next_run_at),
    lastRunAt: toNumberOrNull(row.last_run_at),
    lastJobId: (row.last_job_id as string | null) ?? null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
