import {
  type EnqueueLease,
  type EnqueueResult,
  insertedRecord,
  type NewJob,
  type StorageEvent,
} from 'reseolio/storage';
import { JOB_COLUMNS, toJobRecord } from '../job-row.ts';
import { announceSql, eventFor } from '../notify.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Inserts a job, or returns the existing one for (name, idempotencyKey).
 *
 * `ON CONFLICT … DO NOTHING` never errors on a duplicate key: when another transaction is
 * inserting the same key, PostgreSQL waits for it and then either inserts (it rolled back) or
 * does nothing (it committed). In the second case the follow-up SELECT, a new statement with a
 * new snapshot under READ COMMITTED, sees the committed row. The only gap is that row being
 * deleted (purged) in between, so the pair is retried a few times.
 *
 * The `ready` announcement is part of the INSERT statement, so it is sent only when the row
 * is inserted and delivered only when the (possibly caller-owned) transaction commits. A job
 * inserted with a `lease` is already running and is not announced.
 */
export async function enqueueJob(
  exec: SqlExecutor,
  names: SchemaNames,
  job: NewJob,
  lease?: EnqueueLease,
): Promise<EnqueueResult & { events: StorageEvent[] }> {
  const [insert, values] = lease ? leasedInsert(names, job, lease) : pendingInsert(names, job);
  for (let tries = 0; tries < 3; tries++) {
    // An inserted row is exactly the job we sent, so it is not read back (its arguments can
    // be large): the reply is built from the job itself.
    if ((await exec(insert, values)).length > 0) {
      const record = insertedRecord(job, lease);
      return { job: record, deduplicated: false, events: lease ? [] : [eventFor(record)] };
    }
    const [existing] = await exec(
      `SELECT ${JOB_COLUMNS} FROM ${names.jobs} WHERE name = $1 AND idempotency_key = $2`,
      [job.name, job.idempotencyKey],
    );
    if (existing) return { job: toJobRecord(existing), deduplicated: true, events: [] };
  }
  throw new Error(
    `enqueue of "${job.name}" with idempotency key "${job.idempotencyKey}" kept conflicting ` +
      'with a row that was deleted before it could be read',
  );
}

/** `$1`…`$14` of both inserts. */
function jobValues(job: NewJob): unknown[] {
  return [
    job.id,
    job.name,
    job.args,
    job.policy,
    job.maxAttempts,
    job.idempotencyKey,
    job.parentId,
    job.createdAt,
    job.runAt,
    job.scheduleId,
    job.priority,
    job.concurrencyKey,
    job.rateLimitKey,
    job.traceContext,
  ];
}

function pendingInsert(names: SchemaNames, job: NewJob): [string, unknown[]] {
  const insert = `
    WITH inserted AS (
      INSERT INTO ${names.jobs} (id, name, status, args, policy, attempt, max_attempts,
        idempotency_key, parent_id, created_at, run_at, schedule_id, priority,
        concurrency_key, rate_limit_key, trace_context)
      VALUES ($1, $2, 'pending', $3, $4, 0, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
      ON CONFLICT (name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING id, name, status, run_at
    )
    SELECT ${announceSql('$15', 'inserted')} AS announced FROM inserted`;
  return [insert, [...jobValues(job), names.channel]];
}

/**
 * The job already leased to the engine that will run it (`EnqueueOptions.lease`), as if
 * claimed at `createdAt`. Nothing is announced: no one else may take it.
 */
function leasedInsert(names: SchemaNames, job: NewJob, lease: EnqueueLease): [string, unknown[]] {
  const insert = `
    INSERT INTO ${names.jobs} (id, name, status, args, policy, attempt, max_attempts,
      idempotency_key, parent_id, created_at, run_at, schedule_id, priority, concurrency_key,
      rate_limit_key, trace_context, owner_id, lease_token, lease_expires_at, started_at)
    VALUES ($1, $2, 'running', $3, $4, 1, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
      $16, $17, $8)
    ON CONFLICT (name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id`;
  return [insert, [...jobValues(job), lease.ownerId, lease.leaseToken, lease.leaseExpiresAt]];
}
