import type { JobRecord, JobState, JobStatus } from 'reseolio/storage';
import { isUuid, JOB_COLUMNS, toJobRecord } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

export async function getJob(
  exec: SqlExecutor,
  names: SchemaNames,
  jobId: string,
): Promise<JobRecord | undefined> {
  if (!isUuid(jobId)) return undefined;
  const [row] = await exec(`SELECT ${JOB_COLUMNS} FROM ${names.jobs} WHERE id = $1`, [jobId]);
  return row ? toJobRecord(row) : undefined;
}

/** Status and outcome of many jobs in one statement; ids that are not UUIDs name no job. */
export async function getJobStates(
  exec: SqlExecutor,
  names: SchemaNames,
  jobIds: readonly string[],
): Promise<JobState[]> {
  const ids = jobIds.filter(isUuid);
  if (ids.length === 0) return [];
  const rows = await exec(
    `SELECT id, status, result, error FROM ${names.jobs} WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return rows.map((row) => ({
    id: row.id as string,
    status: row.status as JobStatus,
    result: (row.result as string | null) ?? null,
    error: (row.error as string | null) ?? null,
  }));
}
