import { type JobStatus, type NameStats, type StatsInput, statsFromGroups } from 'reseolio/storage';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * The jobs counted per (name, status) in one statement, with the oldest due `run_at` of each
 * group that waits for a worker (`pending` or `waiting`, `run_at <= now`), folded per name.
 *
 * Every row is read: the final statuses, most of the table, are in no index with their name.
 * At 1,000,000 jobs this is a parallel sequential scan with a hash aggregate (plan and timing:
 * scripts/stats-scale.ts). An index of (name, status, run_at) over every job gave an
 * index-only scan about half as long with 1 kB arguments, and none faster with small ones,
 * while each insert and each status change would pay for it; a read made once per metrics
 * collection does not justify that.
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
