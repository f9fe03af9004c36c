import type { StorageEvent, SweepInput, SweepResult } from 'reseolio';
import { JOB_COLUMNS, toJobRecord } from '../job-row.ts';
import { announceSql, eventFor } from '../notify.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

const SWEPT_COLUMNS = JOB_COLUMNS.split(', ')
  .map((column) => `j.${column}`)
  .join(', ');

/**
 * A running job whose lease expired belongs to a worker that died or stalled: that attempt is
 * lost. Back to `pending` now, or `dead` when it was the last attempt; the error is recorded
 * and the owner cleared; the dead worker's late acks fail the fence (not `running`, and a
 * new claim writes a new token). The swept rows are returned whole, so the engine can emit
 * each lost attempt's events.
 *
 * Candidates are found through the partial `jobs_running_lease_idx` and locked `SKIP LOCKED`:
 * every node may sweep at once, and a row being heartbeated or acked right now is skipped
 * rather than waited on (the UPDATE re-checks the condition anyway).
 */
export async function sweepExpiredLeases(
  exec: SqlExecutor,
  names: SchemaNames,
  input: SweepInput,
): Promise<SweepResult & { events: StorageEvent[] }> {
  const rows = await exec(
    `
    WITH expired AS (
      SELECT id FROM ${names.jobs}
      WHERE status = 'running' AND lease_expires_at < $1
      FOR UPDATE SKIP LOCKED
    ), swept AS (
      UPDATE ${names.jobs} AS j
      SET status = CASE WHEN j.attempt >= j.max_attempts THEN 'dead' ELSE 'pending' END,
          run_at = CASE WHEN j.attempt >= j.max_attempts THEN j.run_at ELSE $1 END,
          completed_at = CASE WHEN j.attempt >= j.max_attempts THEN $1 ELSE NULL END,
          error = $2, owner_id = NULL, lease_expires_at = NULL
      FROM expired
      WHERE j.id = expired.id AND j.status = 'running' AND j.lease_expires_at < $1
      RETURNING ${SWEPT_COLUMNS}
    )
    SELECT swept.*, ${announceSql('$3', 'swept')} AS announced FROM swept`,
    [input.now, input.error, names.channel],
  );
  const result: SweepResult & { events: StorageEvent[] } = { requeued: [], dead: [], events: [] };
  for (const row of rows) {
    const job = toJobRecord(row);
    (job.status === 'dead' ? result.dead : result.requeued).push(job);
    result.events.push(eventFor(job));
  }
  return result;
}
