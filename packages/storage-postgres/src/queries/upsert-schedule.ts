import type { ScheduleUpsert, ScheduleUpsertResult } from 'reseolio/storage';
import { SCHEDULE_COLUMNS, toScheduleRecord } from '../schedule-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Declares a schedule in one statement, atomic against a concurrent declaration of the same id
 * (every node of an application declares its schedules at start):
 * - a new id is inserted `active`, created and updated `now`;
 * - an existing one gets the new definition but keeps its `status` (a schedule paused at
 *   runtime stays paused across deploys), keeps its `next_run_at` unless the cron or the time
 *   zone changed (so ticks missed during a deploy are still caught up), and keeps `updated_at`
 *   unless a definition field changed (`IS DISTINCT FROM`, so a redeploy is not an edit).
 *
 * In `DO UPDATE`, the table alias names the stored row and `EXCLUDED` the declared one.
 * `created` is `xmax = 0`: a row this statement inserted has no deleting or locking
 * transaction, while the conflict path locks and updates the existing row, setting `xmax`.
 */
export async function upsertSchedule(
  exec: SqlExecutor,
  names: SchemaNames,
  input: ScheduleUpsert,
): Promise<ScheduleUpsertResult> {
  const [row] = await exec(
    `
    INSERT INTO ${names.schedules} AS s (id, name, cron, timezone, args, status, catch_up,
      overlap, catch_up_window_ms, next_run_at, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $10)
    ON CONFLICT (id) DO UPDATE SET
      name = EXCLUDED.name,
      cron = EXCLUDED.cron,
      timezone = EXCLUDED.timezone,
      args = EXCLUDED.args,
      catch_up = EXCLUDED.catch_up,
      overlap = EXCLUDED.overlap,
      catch_up_window_ms = EXCLUDED.catch_up_window_ms,
      next_run_at = CASE
        WHEN (s.cron, s.timezone) IS DISTINCT FROM (EXCLUDED.cron, EXCLUDED.timezone)
        THEN EXCLUDED.next_run_at ELSE s.next_run_at END,
      updated_at = CASE
        WHEN (s.name, s.cron, s.timezone, s.args, s.catch_up, s.overlap, s.catch_up_window_ms)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.cron, EXCLUDED.timezone, EXCLUDED.args,
            EXCLUDED.catch_up, EXCLUDED.overlap, EXCLUDED.catch_up_window_ms)
        THEN EXCLUDED.updated_at ELSE s.updated_at END
    RETURNING ${SCHEDULE_COLUMNS}, (xmax = 0) AS created`,
    [
      input.id,
      input.name,
      input.cron,
      input.timezone,
      input.args,
      input.catchUp,
      input.overlap,
      input.catchUpWindowMs,
      input.nextRunAt,
      input.now,
    ],
  );
  return { schedule: toScheduleRecord(row!), created: row!.created === true };
}
