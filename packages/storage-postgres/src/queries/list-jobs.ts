import type {
  CompletionRow,
  CompletionsInput,
  JobCountFilter,
  JobFilter,
  JobRecord,
} from 'reseolio/storage';
import { JOB_STATUSES } from 'reseolio/storage';
import { isUuid, JOB_COLUMNS, toJobRecord } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/** A WHERE clause and its values; `never` when the filter matches nothing. */
type Where = { sql: string; values: unknown[] } | 'never';

/**
 * The conditions of a job filter. Statuses are written into the text as literals (they are
 * checked against {@link JOB_STATUSES}), not bound: the partial indexes (on `dead` and
 * `cancelled` jobs, on claimable ones) can only serve a condition the planner can prove
 * implies their predicate, which a bound parameter never does in a generic plan, and prepared
 * statements switch to generic plans after a few runs.
 */
export function whereOf(names: SchemaNames, filter: JobFilter): Where {
  const where: string[] = [];
  const values: unknown[] = [];
  if (filter.status !== undefined) {
    const statuses = typeof filter.status === 'string' ? [filter.status] : [...filter.status];
    if (statuses.length === 0) return 'never';
    if (!statuses.every((s) => JOB_STATUSES.includes(s))) return 'never';
    const sorted = JOB_STATUSES.filter((s) => statuses.includes(s));
    where.push(
      sorted.length === 1
        ? `status = '${sorted[0]}'`
        : `status IN (${sorted.map((s) => `'${s}'`).join(', ')})`,
    );
  }
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.name !== undefined) where.push(`name = ${param(filter.name)}`);
  if (filter.parentId !== undefined) {
    // A non-UUID parent id names no job: no children.
    if (!isUuid(filter.parentId)) return 'never';
    where.push(`parent_id = ${param(filter.parentId)}`);
  }
  // Served by the partial jobs_schedule_idx, scanned backwards for the id order.
  if (filter.scheduleId !== undefined) where.push(`schedule_id = ${param(filter.scheduleId)}`);
  if (filter.idempotencyKey !== undefined) {
    where.push(`idempotency_key = ${param(filter.idempotencyKey)}`);
    // Keys are indexed by (name, key) only. Without a name, probe that index once per name
    // that has keyed jobs: the names are walked through the same index (a loose index scan,
    // one probe per distinct name), so neither read touches unkeyed jobs, and no index of
    // its own (which every keyed job's every status change would write) is needed.
    if (filter.name === undefined) {
      where.push(`name = ANY(ARRAY(
        WITH RECURSIVE keyed(name) AS (
          (SELECT name FROM ${names.jobs} WHERE idempotency_key IS NOT NULL ORDER BY name LIMIT 1)
          UNION ALL
          SELECT (SELECT k.name FROM ${names.jobs} AS k
                  WHERE k.idempotency_key IS NOT NULL AND k.name > keyed.name
                  ORDER BY k.name LIMIT 1)
          FROM keyed WHERE keyed.name IS NOT NULL
        )
        SELECT name FROM keyed WHERE name IS NOT NULL))`);
    }
  }
  if (filter.createdAfter !== undefined) {
    // Also as an id bound, which the primary key serves: a job's UUIDv7 is made at its
    // createdAt, and its timestamp is never earlier (see NewJob.id), so every job created at
    // or after the time has an id at or above the smallest UUID of that millisecond. Without
    // it, a recent range with fewer rows than a page would scan the whole table backwards.
    where.push(`id >= ${param(minUuidOf(filter.createdAfter))}::uuid`);
    where.push(`created_at >= ${param(filter.createdAfter)}`);
  }
  if (filter.createdBefore !== undefined) {
    where.push(`created_at < ${param(filter.createdBefore)}`);
  }
  if ('before' in filter && filter.before !== undefined) {
    if (!isUuid(filter.before)) return 'never';
    where.push(`id < ${param(filter.before)}::uuid`);
  }
  return { sql: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', values };
}

/** The smallest UUID whose UUIDv7 timestamp is `ms`. */
export function minUuidOf(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/**
 * Newest first, filtered and paged: by id, descending. Engine ids are UUIDv7 (time-ordered), so
 * this is creation order, and the primary key serves it without an index of its own: a page
 * is a backward scan of the primary key from `before` (or the end) that stops after `limit`
 * matching rows. The rare statuses an operator looks for (`dead`, `cancelled`) have partial
 * indexes on `id` of their own (0009), so a page of them never reads the other rows.
 */
export async function listJobs(
  exec: SqlExecutor,
  names: SchemaNames,
  filter: JobFilter,
): Promise<JobRecord[]> {
  const query = listJobsQuery(names, filter);
  if (query === undefined) return [];
  const rows = await exec(query.text, query.values);
  return rows.map(toJobRecord);
}

/** The statement {@link listJobs} runs (undefined: it matches nothing); tests EXPLAIN it. */
export function listJobsQuery(
  names: SchemaNames,
  filter: JobFilter,
): { text: string; values: unknown[] } | undefined {
  const where = whereOf(names, filter);
  if (where === 'never') return undefined;
  const values = [...where.values, filter.limit ?? 100, filter.offset ?? 0];
  return {
    text: `SELECT ${JOB_COLUMNS} FROM ${names.jobs}
     ${where.sql}
     ORDER BY id DESC
     LIMIT $${values.length - 1} OFFSET $${values.length}`,
    values,
  };
}

/** The exact number of jobs `filter` matches. */
export async function countJobs(
  exec: SqlExecutor,
  names: SchemaNames,
  filter: JobCountFilter,
): Promise<number> {
  const where = whereOf(names, filter);
  if (where === 'never') return 0;
  const [row] = await exec(`SELECT count(*) AS n FROM ${names.jobs} ${where.sql}`, where.values);
  return Number(row!.n);
}

/**
 * Final jobs per name and bucket of completion time, read through the partial
 * `jobs_completed_idx` (final jobs by `completed_at`, the retention purge's index): only the
 * window's rows are read.
 */
export async function completions(
  exec: SqlExecutor,
  names: SchemaNames,
  input: CompletionsInput,
): Promise<CompletionRow[]> {
  const rows = await exec(
    `SELECT name, (completed_at / $3::bigint) * $3::bigint AS bucket_start,
            count(*) FILTER (WHERE status = 'success') AS success,
            count(*) FILTER (WHERE status = 'dead') AS dead,
            count(*) FILTER (WHERE status = 'cancelled') AS cancelled
     FROM ${names.jobs}
     WHERE status IN ('success', 'dead', 'cancelled')
       AND completed_at >= $1::bigint AND completed_at < $2::bigint
     GROUP BY 1, 2
     ORDER BY 2, 1`,
    [input.since, input.until, input.bucketMs],
  );
  return rows.map((row) => ({
    name: row.name as string,
    bucketStart: Number(row.bucket_start),
    success: Number(row.success),
    dead: Number(row.dead),
    cancelled: Number(row.cancelled),
  }));
}
