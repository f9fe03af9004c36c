import type { JobRecord, ListExpiredLeasesInput } from 'reseolio/storage';
import { JOB_COLUMNS, toJobRecord } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Running jobs whose lease expired strictly before `now`, soonest-expired first: the lost
 * attempts the engine ends next, each with an ack fenced on its token and on the lease being
 * still expired (`leaseExpiredBefore`). A plain read through the partial
 * `jobs_running_lease_idx`: nothing is locked here, so it never waits on a heartbeat or an ack
 * in progress; the acks' fences decide, under the row lock, who wins.
 */
export async function listExpiredLeases(
  exec: SqlExecutor,
  names: SchemaNames,
  input: ListExpiredLeasesInput,
): Promise<JobRecord[]> {
  const rows = await exec(
    `SELECT ${JOB_COLUMNS} FROM ${names.jobs}
     WHERE status = 'running' AND lease_expires_at < $1
     ORDER BY lease_expires_at
     LIMIT $2`,
    [input.now, input.limit],
  );
  return rows.map(toJobRecord);
}
