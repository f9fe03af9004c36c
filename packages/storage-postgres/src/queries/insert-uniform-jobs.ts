import type { NewJob } from 'reseolio/storage';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * The common bulk enqueue: one function's jobs, none keyed, all with one policy, parent and
 * schedule id, as `fn.enqueueMany` makes them. True when `jobs` is such a batch. The schedule
 * id is one more shared parameter (null for `fn.enqueueMany`, the schedule's for a batch of its
 * runs); a batch that mixes schedule ids takes the JSON path.
 */
export function isUniformUnkeyed(jobs: readonly NewJob[]): boolean {
  const first = jobs[0]!;
  for (const job of jobs) {
    if (
      job.idempotencyKey !== null ||
      job.name !== first.name ||
      job.policy !== first.policy ||
      job.maxAttempts !== first.maxAttempts ||
      job.parentId !== first.parentId ||
      job.scheduleId !== first.scheduleId
    ) {
      return false;
    }
  }
  return true;
}

/**
 * Inserts a uniform, unkeyed batch (see {@link isUniformUnkeyed}) in one statement. It travels
 * in columns: what differs per job (id, args, times) as four arrays that `unnest` zips back
 * into rows, what the jobs share as single parameters. That is about twice the insert rate of
 * the one-JSON-document form the keyed path uses: the server's per-row cost of
 * `json_to_recordset` (a hash of nine keys for every row) was most of the statement, and the
 * shared columns are parsed once instead of a thousand times. (An array per column, nine in
 * all, was in between; see `enqueue-jobs.ts` for the keyed path.)
 *
 * No ON CONFLICT: without idempotency keys nothing can conflict but a duplicate id, which is a
 * bug worth an error. The statement is atomic. One `ready` notification announces the batch
 * at its earliest `run_at`, sent with the commit.
 *
 * Priority, the flow keys (0006) and the trace context (0007) may differ per job without
 * leaving this path: each is sent as one shared value when the whole batch agrees on it (the
 * common case: one enqueuing span makes the whole batch, so a plain batch pays nothing for
 * them), else as one more array, whose elements then win (`coalesce`: a priority is never
 * null, and when a column travels as an array, its shared value is null).
 */
export async function insertUniformJobs(
  exec: SqlExecutor,
  names: SchemaNames,
  jobs: readonly NewJob[],
): Promise<number> {
  const first = jobs[0]!;
  const ids: string[] = new Array(jobs.length);
  const args: string[] = new Array(jobs.length);
  const createdAt: number[] = new Array(jobs.length);
  const runAt: number[] = new Array(jobs.length);
  let earliest = first.runAt;
  jobs.forEach((job, i) => {
    ids[i] = job.id;
    args[i] = job.args;
    createdAt[i] = job.createdAt;
    runAt[i] = job.runAt;
    if (job.runAt < earliest) earliest = job.runAt;
  });
  const priority = shared(jobs, (job) => job.priority);
  const concurrencyKey = shared(jobs, (job) => job.concurrencyKey);
  const rateLimitKey = shared(jobs, (job) => job.rateLimitKey);
  const traceContext = shared(jobs, (job) => job.traceContext);
  await exec(
    `
    WITH inserted AS (
      INSERT INTO ${names.jobs} (id, name, status, args, policy, attempt, max_attempts,
        idempotency_key, parent_id, schedule_id, priority, concurrency_key, rate_limit_key,
        trace_context, created_at, run_at)
      SELECT input.id, $5, 'pending', input.args, $6, 0, $7, NULL, $8::uuid, $11::text,
        coalesce(input.priority, $12::integer), coalesce(input.concurrency_key, $14::text),
        coalesce(input.rate_limit_key, $16::text), coalesce(input.trace_context, $18::text),
        input.created_at, input.run_at
      FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[], $13::integer[],
          $15::text[], $17::text[], $19::text[])
        AS input(id, args, created_at, run_at, priority, concurrency_key, rate_limit_key,
          trace_context)
    )
    SELECT pg_notify($9, json_build_object('type', 'ready', 'name', $5::text,
      'runAt', $10::bigint)::text)`,
    [
      ids,
      args,
      createdAt,
      runAt,
      first.name,
      first.policy,
      first.maxAttempts,
      first.parentId,
      names.channel,
      earliest,
      first.scheduleId,
      ...priority,
      ...concurrencyKey,
      ...rateLimitKey,
      ...traceContext,
    ],
  );
  return earliest;
}

/**
 * A column's parameters: `[value, null]` when every job has the same value, else
 * `[null, values]` (a NULL array unnests as nulls, so the shared value is used).
 */
function shared<T>(jobs: readonly NewJob[], get: (job: NewJob) => T): [T | null, T[] | null] {
  const first = get(jobs[0]!);
  for (const job of jobs) {
    if (get(job) !== first) return [null, jobs.map(get)];
  }
  return [first, null];
}
