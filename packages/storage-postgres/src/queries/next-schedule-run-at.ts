import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * The earliest next run of the active schedules of the given functions (what a node sleeps
 * until), through the partial `schedules_due_idx`.
 */
export async function nextScheduleRunAt(
  exec: SqlExecutor,
  names: SchemaNames,
  functionNames: readonly string[],
): Promise<number | undefined> {
  if (functionNames.length === 0) return undefined;
  const [row] = await exec(
    `SELECT min(next_run_at) AS next FROM ${names.schedules}
     WHERE status = 'active' AND next_run_at IS NOT NULL AND name = ANY($1::text[])`,
    [[...functionNames]],
  );
  return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
}
