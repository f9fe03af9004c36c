import type { ScheduleRecord, ScheduleUpdate } from 'reseolio/storage';
import { SCHEDULE_COLUMNS, toScheduleRecord } from '../schedule-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/** Patch keys and their columns. Only these reach the SQL text: values are always bound. */
const COLUMNS = {
  name: 'name',
  cron: 'cron',
  timezone: 'timezone',
  args: 'args',
  catchUp: 'catch_up',
  overlap: 'overlap',
  catchUpWindowMs: 'catch_up_window_ms',
  status: 'status',
  nextRunAt: 'next_run_at',
} as const satisfies Record<keyof ScheduleUpdate['patch'], string>;

/**
 * Sets the patch's defined fields and `updated_at`, in one statement; with `ifStatus`, only
 * while the schedule has that status (a resume that must not race a concurrent pause: the
 * condition is checked under the row lock). Undefined when no row matched.
 */
export async function updateSchedule(
  exec: SqlExecutor,
  names: SchemaNames,
  input: ScheduleUpdate,
): Promise<ScheduleRecord | undefined> {
  const values: unknown[] = [input.id, input.now];
  const set = ['updated_at = $2'];
  for (const [key, column] of Object.entries(COLUMNS)) {
    const value = input.patch[key as keyof typeof COLUMNS];
    if (value === undefined) continue;
    values.push(value);
    set.push(`${column} = $${values.length}`);
  }
  let where = 'id = $1';
  if (input.ifStatus !== undefined) {
    values.push(input.ifStatus);
    where += ` AND status = $${values.length}`;
  }
  const [row] = await exec(
    `UPDATE ${names.schedules} SET ${set.join(', ')} WHERE ${where}
     RETURNING ${SCHEDULE_COLUMNS}`,
    values,
  );
  return row ? toScheduleRecord(row) : undefined;
}
