import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/** Deletes a schedule; its jobs stay (`jobs.schedule_id` has no foreign key). */
export async function deleteSchedule(
  exec: SqlExecutor,
  names: SchemaNames,
  id: string,
): Promise<boolean> {
  const rows = await exec(`DELETE FROM ${names.schedules} WHERE id = $1 RETURNING id`, [id]);
  return rows.length > 0;
}
