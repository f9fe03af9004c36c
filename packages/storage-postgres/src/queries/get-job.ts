import type { JobRecord } from 'reseolio';
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
