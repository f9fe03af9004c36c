import type { ClaimInput, JobRecord } from 'reseolio';
import { jobColumnsOf, toJobRecord } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Leases up to `limit` due jobs in one statement.
 *
 * The CTE picks candidates through the partial `jobs_pending_idx` (only pending rows, in claim
 * order) and locks them `FOR UPDATE SKIP LOCKED`: rows another claimer has locked are skipped,
 * not waited on, so concurrent claimers never block each other and never get the same job.
 * The UPDATE then takes the lease: `running`, the owner, the lease deadline, and `attempt + 1`
 * (the fence every later heartbeat and ack must present). The lock is held until the statement
 * commits, so a row cannot be taken twice between the SELECT and the UPDATE.
 */
export async function claimJobs(
  exec: SqlExecutor,
  names: SchemaNames,
  input: ClaimInput,
): Promise<JobRecord[]> {
  if (input.names.length === 0 || input.limit <= 0) return [];
  const rows = await exec(
    `
    WITH next AS (
      SELECT id FROM ${names.jobs}
      WHERE status = 'pending' AND run_at <= $1 AND name = ANY($2::text[])
      ORDER BY run_at, created_at, id
      LIMIT $3
      FOR UPDATE SKIP LOCKED
    )
    UPDATE ${names.jobs} AS j
    SET status = 'running', owner_id = $4, lease_expires_at = $5,
        attempt = j.attempt + 1, started_at = $1
    FROM next
    WHERE j.id = next.id
    RETURNING ${jobColumnsOf('j')}`,
    [input.now, [...input.names], input.limit, input.ownerId, input.leaseExpiresAt],
  );
  // RETURNING has no order; hand jobs back in claim order.
  return rows
    .map(toJobRecord)
    .sort((a, b) => a.runAt - b.runAt || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}
