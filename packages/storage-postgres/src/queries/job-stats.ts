import { type JobStatus, type NameStats, type StatsInput, statsFromGroups } from 'reseolio/storage';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * The jobs counted per (name, status) in one statement, with the oldest due `run_at` of each
 * group that waits for a worker (`pending` or `waiting`, `run_at <= now`), folded per name.
 *
 * Every row is read: the final statuses, most of the table, are in no index with their name,
 * and an index of (name, status) over every job would cost each insert and each status change
 * for a read made once per metrics collection. At 1,000,000 jobs this is one sequential scan
 * with a hash aggregate (the plan and timing are in scripts/stats-scale.ts).
 */
export async function jobStats(
  exec: SqlExecutor,
  names: SchemaNames,
  input: StatsInput,
): Promise<NameStats[]> {
  const rows = await exec(
    `SELECT name, status, count(*) AS count,
       min(run_at) FILTER (WHERE status IN ('pending', 'waiting') AND run_at <= $1)
         AS oldest_due_run_at
     FROM ${names.jobs}
     GROUP BY name, status`,
    [input.now],
  );
  return statsFromGroups(
    rows.map((row) => ({
      name: row.name as string,
      status: row.status as JobStatus,
      count: Number(row.count),
      oldestDueRunAt: row.oldest_due_run_at === null ? null : Number(row.oldest_due_run_at),
    })),
  );
}
