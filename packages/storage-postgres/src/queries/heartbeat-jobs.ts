import type { HeartbeatInput } from 'reseolio/storage';
import { isUuid } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Extends the leases of many jobs in one statement: `unnest` pairs each id with the lease
 * token the worker holds. Each row is fenced on (id, lease token, running), so a worker whose
 * lease already expired and was re-claimed (a new token) or that was cancelled extends
 * nothing, and learns it from the ids missing in the answer.
 *
 * The rows are locked in id order first (`ORDER BY id FOR UPDATE`): the same worker's
 * `ackSuccesses` updates the same jobs at the same moment (a job stays heartbeated until its
 * outcome commits) and locks them in id order too. Two multi-row UPDATEs that lock one set of
 * rows in different orders deadlock, and PostgreSQL then aborts one of them: an aborted ack
 * let the lease run out and the finished job run again. A row whose ack commits while we
 * wait for its lock is re-checked on wake-up, no longer `running`, and left out.
 */
export async function heartbeatJobs(
  exec: SqlExecutor,
  names: SchemaNames,
  input: HeartbeatInput,
): Promise<string[]> {
  const jobs = input.jobs.filter((job) => isUuid(job.id));
  if (jobs.length === 0) return [];
  const rows = await exec(
    `
    WITH locked AS (
      SELECT j.id FROM ${names.jobs} AS j
      JOIN unnest($2::uuid[], $3::text[]) AS held(id, lease_token)
        ON j.id = held.id AND j.lease_token = held.lease_token
      WHERE j.status = 'running'
      ORDER BY j.id
      FOR UPDATE OF j
    )
    UPDATE ${names.jobs} AS j
    SET lease_expires_at = $1
    FROM locked
    WHERE j.id = locked.id
    RETURNING j.id`,
    [input.leaseExpiresAt, jobs.map((job) => job.id), jobs.map((job) => job.leaseToken)],
  );
  return rows.map((row) => row.id as string);
}
