import type { ScheduleFilter, ScheduleRecord } from 'reseolio/storage';
import { SCHEDULE_COLUMNS, SCHEDULE_ID_ORDER, toScheduleRecord } from '../schedule-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Filtered and paged by id. Schedules are few (declared in code), so the sort the `"C"`
 * collation needs (the primary key is in the default collation) costs nothing worth an index.
 */
export async function listSchedules(
  exec: SqlExecutor,
  names: SchemaNames,
  filter: ScheduleFilter,
): Promise<ScheduleRecord[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (filter.status !== undefined) {
    values.push(filter.status);
    where.push(`status = $${values.length}`);
  }
  if (filter.name !== undefined) {
    values.push(filter.name);
    where.push(`name = $${values.length}`);
  }
  values.push(filter.limit ?? 100, filter.offset ?? 0);
  const rows = await exec(
    `SELECT ${SCHEDULE_COLUMNS} FROM ${names.schedules}
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY ${SCHEDULE_ID_ORDER}
     LIMIT $${values.length - 1} OFFSET $${values.length}`,
    values,
  );
  return rows.map(toScheduleRecord);
}
