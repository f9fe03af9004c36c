import type { PurgeInput } from 'reseolio/storage';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Retention: deletes at most `limit` final jobs completed before `completedBefore`, found via
 * the partial `jobs_completed_idx`. Bounded batches keep each delete's locks short; rows
 * locked by someone else (a concurrent purge, a retry) are skipped.
 *
 * The DELETE takes its ids as an array (`= ANY(ARRAY(…))`), not by joining the CTE: with a
 * join, the generic plan a prepared statement may switch to guesses a third of the table for
 * `LIMIT $2` and hashes the whole table to delete one batch, so a batch costs as much as the
 * table is large (figures in docs/benchmarks.md). An id array can only be looked up through
 * the primary key, whatever the estimate.
 */
export async function purgeJobs(
  exec: SqlExecutor,
  names: SchemaNames,
  input: PurgeInput,
): Promise<number> {
  if (input.limit <= 0) return 0;
  const rows = await exec(
    `
    WITH doomed AS (
      SELECT id FROM ${names.jobs}
      WHERE status IN ('success', 'dead', 'cancelled') AND completed_at < $1
      LIMIT $2
      FOR UPDATE SKIP LOCKED
    )
    DELETE FROM ${names.jobs} WHERE id = ANY(ARRAY(SELECT id FROM doomed))
    RETURNING id`,
    [input.completedBefore, input.limit],
  );
  return rows.length;
}
