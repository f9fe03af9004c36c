import type { EnqueueResult, JobRecord, NewJob, StorageEvent } from 'reseolio/storage';
import { JOB_COLUMNS, toJobRecord } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';
import { insertUniformJobs, isUniformUnkeyed } from './insert-uniform-jobs.ts';

/**
 * Inserts a batch of jobs in one statement and one round trip: 1,000 jobs cost one commit.
 * Batches of one function without idempotency keys (what `fn.enqueueMany` sends) take the
 * columnar form in `insert-uniform-jobs.ts`; the rest, described here, travel as JSON.
 *
 * The batch travels as ONE json parameter that `json_to_recordset` turns back into typed
 * rows. Nine parallel arrays (the first version) spent most of the client's time in
 * node-postgres's array literal escaping (`escapeElement`, per element, in JavaScript) and
 * made the server parse nine array literals; `JSON.stringify` runs natively and the server's
 * JSON parser is fast (the bulk enqueue rates of both are in docs/benchmarks.md). `json`, not
 * `jsonb`: the document is read once, so building the binary form would be wasted work.
 *
 * Idempotency is per item, as in `enqueueJob`: `ON CONFLICT … DO NOTHING` skips a job whose
 * (name, idempotency_key) exists, including one inserted by an earlier row of this same
 * statement (rows with one key go in input order, so the first duplicate wins), and a second
 * statement reads the jobs that hold those keys. Only batches that hit a key pay for it.
 *
 * Rows are inserted in (name, key) order: an insert that meets a key another transaction has
 * just inserted waits for that transaction, so two batches sharing keys in different orders
 * would each wait for the other (a deadlock, and PostgreSQL aborts one). In one global order,
 * whoever takes the first shared key first goes through.
 *
 * The statement is atomic, so either every new job is inserted or none. Wake-ups are one
 * `ready` notification per function name at its earliest `run_at`, not one per job: a
 * listener only needs to know that a claim is worth trying.
 */
export async function enqueueJobs(
  exec: SqlExecutor,
  names: SchemaNames,
  jobs: readonly NewJob[],
): Promise<{ results: EnqueueResult[]; events: StorageEvent[] }> {
  if (jobs.length === 0) return { results: [], events: [] };
  if (isUniformUnkeyed(jobs)) {
    const earliest = await insertUniformJobs(exec, names, jobs);
    return {
      results: jobs.map((job) => ({ job: pendingRecord(job), deduplicated: false })),
      events: [{ type: 'ready', name: jobs[0]!.name, runAt: earliest }],
    };
  }
  const rows = await exec(
    `
    WITH inserted AS (
      INSERT INTO ${names.jobs} (id, name, status, args, policy, attempt, max_attempts,
        idempotency_key, parent_id, schedule_id, priority, concurrency_key, rate_limit_key,
        trace_context, created_at, run_at)
      SELECT id, name, 'pending', args, policy, 0, "maxAttempts", "idempotencyKey",
        "parentId", "scheduleId", priority, "concurrencyKey", "rateLimitKey", "traceContext",
        "createdAt", "runAt"
      FROM ROWS FROM (json_to_recordset($1::json) AS (id uuid, name text, args text,
          policy text, "maxAttempts" int, "idempotencyKey" text, "parentId" uuid,
          "scheduleId" text, priority int, "concurrencyKey" text, "rateLimitKey" text,
          "traceContext" text, "createdAt" bigint, "runAt" bigint)) WITH ORDINALITY
        AS input(id, name, args, policy, "maxAttempts", "idempotencyKey", "parentId",
          "scheduleId", priority, "concurrencyKey", "rateLimitKey", "traceContext", "createdAt",
          "runAt", ord)
      ORDER BY name, "idempotencyKey", ord
      ON CONFLICT (name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING id, name, run_at
    ), announced AS (
      SELECT pg_notify($2, json_build_object('type', 'ready', 'name', name,
        'runAt', min(run_at))::text)
      FROM inserted GROUP BY name
    )
    SELECT id, (SELECT count(*) FROM announced) AS announced FROM inserted`,
    // `NewJob`'s own keys are the record's column names: the array is sent as it is.
    [JSON.stringify(jobs), names.channel],
  );
  const inserted = new Set(rows.map((row) => row.id as string));
  const results: EnqueueResult[] = new Array(jobs.length);
  const missing: number[] = [];
  const events = new Map<string, number>();
  jobs.forEach((job, i) => {
    if (inserted.has(job.id)) {
      // The row is exactly what was sent: no need to read it back.
      results[i] = { job: pendingRecord(job), deduplicated: false };
      const at = events.get(job.name);
      if (at === undefined || job.runAt < at) events.set(job.name, job.runAt);
    } else {
      missing.push(i);
    }
  });
  if (missing.length > 0) {
    const existing = await readKeyed(
      exec,
      names,
      missing.map((i) => jobs[i]!),
    );
    for (const i of missing) {
      const job = jobs[i]!;
      const found = existing.get(`${job.name}\u0000${job.idempotencyKey}`);
      if (!found) {
        // Only a purge between the two statements can do this (see enqueueJob).
        throw new Error(
          `enqueue of "${job.name}" with idempotency key "${job.idempotencyKey}" conflicted ` +
            'with a row that was deleted before it could be read; retry the call',
        );
      }
      results[i] = { job: found, deduplicated: true };
    }
  }
  return {
    results,
    events: [...events].map(([name, runAt]) => ({ type: 'ready', name, runAt })),
  };
}

/** The stored jobs holding the (name, idempotency key) of `jobs`, by `name\0key`. */
export async function readKeyed(
  exec: SqlExecutor,
  names: SchemaNames,
  jobs: readonly NewJob[],
): Promise<Map<string, JobRecord>> {
  const rows = await exec(
    `SELECT ${JOB_COLUMNS} FROM ${names.jobs}
     WHERE (name, idempotency_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [jobs.map((j) => j.name), jobs.map((j) => j.idempotencyKey)],
  );
  const byKey = new Map<string, JobRecord>();
  for (const row of rows) {
    const record = toJobRecord(row);
    byKey.set(`${record.name}\u0000${record.idempotencyKey}`, record);
  }
  return byKey;
}

// Spelled out, not `{ ...job, … }`: the spread of a thousand records was a fifth of the
// client's time in the bulk-enqueue profile.
function pendingRecord(job: NewJob): JobRecord {
  return {
    id: job.id,
    name: job.name,
    status: 'pending',
    args: job.args,
    result: null,
    error: null,
    policy: job.policy,
    attempt: 0,
    maxAttempts: job.maxAttempts,
    idempotencyKey: job.idempotencyKey,
    parentId: job.parentId,
    scheduleId: job.scheduleId,
    priority: job.priority,
    concurrencyKey: job.concurrencyKey,
    rateLimitKey: job.rateLimitKey,
    ownerId: null,
    leaseToken: null,
    leaseExpiresAt: null,
    createdAt: job.createdAt,
    runAt: job.runAt,
    startedAt: null,
    completedAt: null,
    waitingFor: null,
    traceContext: job.traceContext,
    progress: null,
  };
}
