import type { AttemptOutcome, AttemptRecord } from 'reseolio/storage';
import { isUuid } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/** A job's ended attempts, oldest first, through the primary key (job_id, lease_token). */
export async function listAttempts(
  exec: SqlExecutor,
  names: SchemaNames,
  jobId: string,
): Promise<AttemptRecord[]> {
  if (!isUuid(jobId)) return [];
  const rows = await exec(
    `SELECT job_id, lease_token, attempt, worker_id, started_at, ended_at, outcome, error
     FROM ${names.attempts} WHERE job_id = $1
     ORDER BY started_at, ended_at, lease_token`,
    [jobId],
  );
  return rows.map((row) => ({
    jobId: row.job_id as string,
    leaseToken: row.lease_token as string,
    attempt: Number(row.attempt),
    workerId: row.worker_id as string | null,
    startedAt: Number(row.started_at),
    endedAt: Number(row.ended_at),
    outcome: row.outcome as AttemptOutcome,
    error: row.error as string | null,
  }));
}
