import type { Pool } from 'pg';
import type {
  EnqueueResult,
  FireScheduleInput,
  FireScheduleResult,
  StorageEvent,
} from 'reseolio/storage';
import { JOB_COLUMNS, toJobRecord } from '../job-row.ts';
import { eventFor } from '../notify.ts';
import { SCHEDULE_COLUMNS, toScheduleRecord } from '../schedule-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { Row, SqlExecutor } from '../sql-executor.ts';
import { inTransaction } from '../transaction.ts';
import { enqueueJobs, readKeyed } from './enqueue-jobs.ts';

export type Fired = FireScheduleResult & { events: StorageEvent[] };

/**
 * Claims a schedule's tick and inserts its jobs in ONE transaction on one pooled client, so a
 * crash leaves either neither or both:
 *
 * 1. `BEGIN`.
 * 2. The claim, a compare-and-set: `UPDATE … WHERE id = $1 AND status = 'active' AND
 *    next_run_at = $2`, storing the next run. A concurrent fire of the same tick waits on the
 *    row lock, then re-checks the condition against the committed row and matches nothing (a
 *    lost race costs a wait, never a duplicate). A manual trigger (no `claim`) matches on the
 *    id alone and keeps `next_run_at`. The same statement sets `last_run_at` and
 *    `last_job_id` from the last input job, right unless that job turns out deduplicated.
 *    No row: undefined, nothing written (fired elsewhere, paused, moved or deleted).
 * 3. The jobs, by `enqueueJobs` itself: the same statement as `enqueueMany` (deduplicated on
 *    (name, idempotency key) against stored jobs and within the batch), whose `ready`
 *    notifications are queued with this transaction and delivered by its commit.
 * 4. Only when the last job was deduplicated: `last_run_at`/`last_job_id` set to the job that
 *    holds its key.
 * 5. `COMMIT` (see `inTransaction`).
 *
 * The schedule row is locked before any job key (step 2 before 3), and `enqueueJobs` takes
 * keys in one global order, so fires cannot deadlock with each other or with enqueues.
 *
 * The commit is synchronous (the server's `synchronous_commit`, unlike claims of jobs): a fire
 * creates jobs, and a manual trigger hands their ids to its caller, so it is as durable as an
 * enqueue. Losing a committed tick claim in a crash would in itself be harmless (the claim and
 * its jobs go together, and the tick fired again makes the same job under the same
 * idempotency key), but a trigger's returned job vanishing would not be, and a tick is not
 * frequent enough for its flush to matter.
 *
 * With no jobs (ticks skipped by policy), the claim alone is the write: one statement, no
 * transaction.
 */
export async function fireSchedule(
  pool: Pool,
  exec: SqlExecutor,
  prepared: boolean,
  names: SchemaNames,
  input: FireScheduleInput,
): Promise<Fired | undefined> {
  const last = input.jobs.at(-1);
  if (!last) {
    const [row] = input.claim
      ? await exec(claimSql(names, false), [
          input.id,
          input.claim.expectedNextRunAt,
          input.claim.nextRunAt,
        ])
      : await exec(`SELECT ${SCHEDULE_COLUMNS} FROM ${names.schedules} WHERE id = $1`, [input.id]);
    return row ? { schedule: toScheduleRecord(row), jobs: [], events: [] } : undefined;
  }
  return inTransaction(pool, prepared, async (tx) => {
    const [claimed] = input.claim
      ? await tx(claimSql(names, true), [
          input.id,
          input.claim.expectedNextRunAt,
          input.claim.nextRunAt,
          last.runAt,
          last.id,
        ])
      : await tx(
          `UPDATE ${names.schedules} SET last_run_at = $2, last_job_id = $3 WHERE id = $1
           RETURNING ${SCHEDULE_COLUMNS}`,
          [input.id, last.runAt, last.id],
        );
    // Nothing was written: the commit ends the transaction as a rollback would.
    if (!claimed) return undefined;
    let row: Row | undefined = claimed;
    const { results, events } = await enqueueJobs(tx, names, input.jobs);
    const newest = results.at(-1)!;
    if (newest.deduplicated) {
      [row] = await tx(
        `UPDATE ${names.schedules} SET last_run_at = $2, last_job_id = $3 WHERE id = $1
         RETURNING ${SCHEDULE_COLUMNS}`,
        [input.id, newest.job.runAt, newest.job.id],
      );
    }
    return { schedule: toScheduleRecord(row!), jobs: results, events };
  });
}

/** The tick's compare-and-set; `withLast` also records the run ($4, $5). Exported for tests. */
export function claimSql(names: SchemaNames, withLast: boolean): string {
  return `
    UPDATE ${names.schedules}
    SET next_run_at = $3${withLast ? ', last_run_at = $4, last_job_id = $5' : ''}
    WHERE id = $1 AND status = 'active' AND next_run_at = $2
    RETURNING ${SCHEDULE_COLUMNS}`;
}

/**
 * After a connection error, before a fire is sent again: whether the earlier send committed
 * (its reply lost with the connection). Its jobs are then stored under the ids we sent (ids
 * are fresh, and a fire's jobs commit together with its claim), and the answer is rebuilt
 * from what is stored. Undefined when none of them is: nothing was committed (or every job
 * was deduplicated, in which case sending again is equally harmless), so the fire is sent
 * again. Without this, a re-sent tick would answer "not fired" (its compare-and-set fails on
 * its own earlier write) and a re-sent trigger would make its unkeyed jobs twice.
 */
export async function readFired(
  exec: SqlExecutor,
  names: SchemaNames,
  input: FireScheduleInput,
): Promise<Fired | undefined> {
  const rows = await exec(`SELECT ${JOB_COLUMNS} FROM ${names.jobs} WHERE id = ANY($1::uuid[])`, [
    input.jobs.map((job) => job.id),
  ]);
  if (rows.length === 0) return undefined;
  const byId = new Map(rows.map((row) => [row.id as string, toJobRecord(row)]));
  const keyed = input.jobs.filter((job) => !byId.has(job.id));
  const existing = keyed.length > 0 ? await readKeyed(exec, names, keyed) : new Map();
  const jobs: EnqueueResult[] = input.jobs.map((job) => {
    const inserted = byId.get(job.id);
    if (inserted) return { job: inserted, deduplicated: false };
    const found = existing.get(`${job.name}\u0000${job.idempotencyKey}`);
    if (!found) throw new Error(`fireSchedule: job ${job.id} was neither inserted nor found`);
    return { job: found, deduplicated: true };
  });
  const [schedule] = await exec(
    `SELECT ${SCHEDULE_COLUMNS} FROM ${names.schedules} WHERE id = $1`,
    [input.id],
  );
  // Deleted since: the fire happened, but there is no schedule to answer with.
  if (!schedule) return undefined;
  return {
    schedule: toScheduleRecord(schedule),
    jobs,
    // Announced again in-process (LISTEN off) if still claimable: the earlier send's
    // notifications went out with its commit, but its local events were never emitted.
    events: jobs
      .filter((r) => !r.deduplicated && r.job.status === 'pending')
      .map((r) => eventFor(r.job)),
  };
}
