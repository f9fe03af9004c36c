import type { HeartbeatInput } from 'reseolio';
import { isUuid } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Extends the leases of many jobs in one statement: `unnest` pairs each id with the attempt
 * the worker holds. Each row is fenced on (id, attempt, owner, running), so a worker whose
 * lease already expired and was re-claimed (attempt moved on) or that was cancelled extends
 * nothing, and learns it from the ids missing in the answer.
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
    UPDATE ${names.jobs} AS j
    SET lease_expires_at = $1
    FROM unnest($2::uuid[], $3::int[]) AS held(id, attempt)
    WHERE j.id = held.id AND j.attempt = held.attempt
      AND j.owner_id = $4 AND j.status = 'running'
    RETURNING j.id`,
    [
      input.leaseExpiresAt,
      jobs.map((job) => job.id),
      jobs.map((job) => job.attempt),
      input.ownerId,
    ],
  );
  return rows.map((row) => row.id as string);
}
