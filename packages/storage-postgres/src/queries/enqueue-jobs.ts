import type { EnqueueResult, JobRecord, NewJob, StorageEvent } from 'reseolio';
import { JOB_COLUMNS, toJobRecord } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Inserts a batch of jobs in one statement: the columns travel as arrays and `unnest` turns
 * them back into rows, so 1,000 jobs cost one round trip and one commit.
 *
 * Idempotency is per item, as in `enqueueJob`: `ON CONFLICT … DO NOTHING` skips a job whose
 * (name, idempotency_key) exists, including one inserted by an earlier row of this same
 * statement, and a second statement reads the jobs that hold those keys. Only batches that
 * hit a key pay for it.
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
  const rows = await exec(
    `
    WITH inserted AS (
      INSERT INTO ${names.jobs} (id, name, status, args, policy, attempt, max_attempts,
        idempotency_key, parent_id, created_at, run_at)
      SELECT id, name, 'pending', args, policy, 0, max_attempts, idempotency_key, parent_id,
        created_at, run_at
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[],
        $7::uuid[], $8::bigint[], $9::bigint[])
        WITH ORDINALITY AS input(id, name, args, policy, max_attempts, idempotency_key,
          parent_id, created_at, run_at, ord)
      ORDER BY ord
      ON CONFLICT (name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING id, name, run_at
    ), announced AS (
      SELECT pg_notify($10, json_build_object('type', 'ready', 'name', name,
        'runAt', min(run_at))::text)
      FROM inserted GROUP BY name
    )
    SELECT id, (SELECT count(*) FROM announced) AS announced FROM inserted`,
    [
      jobs.map((j) => j.id),
      jobs.map((j) => j.name),
      jobs.map((j) => j.args),
      jobs.map((j) => j.policy),
      jobs.map((j) => j.maxAttempts),
      jobs.map((j) => j.idempotencyKey),
      jobs.map((j) => j.parentId),
      jobs.map((j) => j.createdAt),
      jobs.map((j) => j.runAt),
      names.channel,
    ],
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

async function readKeyed(
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

function pendingRecord(job: NewJob): JobRecord {
  return {
    ...job,
    status: 'pending',
    result: null,
    error: null,
    attempt: 0,
    ownerId: null,
    leaseExpiresAt: null,
    startedAt: null,
    completedAt: null,
  };
}
