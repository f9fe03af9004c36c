import type { JobFilter, JobRecord } from 'reseolio/storage';
import { isUuid, JOB_COLUMNS, toJobRecord } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Newest first, filtered and paged: by id, descending. Engine ids are UUIDv7 (time-ordered), so
 * this is creation order, and the primary key serves it without an index of its own.
 */
export async function listJobs(
  exec: SqlExecutor,
  names: SchemaNames,
  filter: JobFilter,
): Promise<JobRecord[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (filter.status !== undefined) {
    const statuses = typeof filter.status === 'string' ? [filter.status] : [...filter.status];
    values.push(statuses);
    where.push(`status = ANY($${values.length}::text[])`);
  }
  if (filter.name !== undefined) {
    values.push(filter.name);
    where.push(`name = $${values.length}`);
  }
  if (filter.parentId !== undefined) {
    // A non-UUID parent id names no job: no children.
    if (!isUuid(filter.parentId)) return [];
    values.push(filter.parentId);
    where.push(`parent_id = $${values.length}`);
  }
  if (filter.scheduleId !== undefined) {
    // Served by the partial jobs_schedule_idx, scanned backwards for the id order.
    values.push(filter.scheduleId);
    where.push(`schedule_id = $${values.length}`);
  }
  values.push(filter.limit ?? 100, filter.offset ?? 0);
  const rows = await exec(
    `SELECT ${JOB_COLUMNS} FROM ${names.jobs}
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY id DESC
     LIMIT $${values.length - 1} OFFSET $${values.length}`,
    values,
  );
  return rows.map(toJobRecord);
}
