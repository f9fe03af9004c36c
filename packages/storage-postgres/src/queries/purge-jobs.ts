import type { PurgeInput } from 'reseolio';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Retention: deletes at most `limit` final jobs completed before `completedBefore`, found via
 * the partial `jobs_completed_idx`. Bounded batches keep each delete's locks short; rows
 * locked by someone else (a concurrent purge, a retry) are skipped.
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
    DELETE FROM ${names.jobs} AS j USING doomed WHERE j.id = doomed.id
    RETURNING j.id`,
    [input.completedBefore, input.limit],
  );
  return rows.length;
}
