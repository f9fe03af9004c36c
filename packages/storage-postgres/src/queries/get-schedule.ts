import type { ScheduleRecord } from 'reseolio/storage';
import { SCHEDULE_COLUMNS, toScheduleRecord } from '../schedule-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

export async function getSchedule(
  exec: SqlExecutor,
  names: SchemaNames,
  id: string,
): Promise<ScheduleRecord | undefined> {
  const [row] = await exec(`SELECT ${SCHEDULE_COLUMNS} FROM ${names.schedules} WHERE id = $1`, [
    id,
  ]);
  return row ? toScheduleRecord(row) : undefined;
}
