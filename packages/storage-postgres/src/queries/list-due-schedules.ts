import type { DueSchedulesInput, ScheduleRecord } from 'reseolio/storage';
import { SCHEDULE_COLUMNS, SCHEDULE_ID_ORDER, toScheduleRecord } from '../schedule-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Active schedules of the given functions that are due, soonest first (ties by id). A plain
 * read through the partial `schedules_due_idx` (active rows with a next run, by next run):
 * nothing is locked, since firing is `fireSchedule`'s compare-and-set.
 */
export async function listDueSchedules(
  exec: SqlExecutor,
  names: SchemaNames,
  input: DueSchedulesInput,
): Promise<ScheduleRecord[]> {
  if (input.names.length === 0 || input.limit <= 0) return [];
  const rows = await exec(
    `SELECT ${SCHEDULE_COLUMNS} FROM ${names.schedules}
     WHERE status = 'active' AND next_run_at IS NOT NULL AND next_run_at <= $1
       AND name = ANY($2::text[])
     ORDER BY next_run_at, ${SCHEDULE_ID_ORDER}
     LIMIT $3`,
    [input.now, [...input.names], input.limit],
  );
  return rows.map(toScheduleRecord);
}
