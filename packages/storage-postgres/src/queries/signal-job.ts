import type { SignalInput, SignalResult, StorageEvent } from 'reseolio/storage';
import { isUuid } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';
import { announceWokenSql, WAKE_SET, WOKEN_COLUMNS, wokenEvents } from './wake-parent.ts';

/**
 * Stores a signal and wakes its job when it waits for the topic, in ONE statement (so one
 * transaction):
 *
 * 1. `job` locks the job's row (`FOR NO KEY UPDATE`, whatever its status: see below). No row:
 *    `job-not-found`; a final status: `job-finished`, nothing stored.
 * 2. `stored` inserts the signal; an idempotency key already stored for the job conflicts
 *    (`ON CONFLICT (job_id, idempotency_key) DO NOTHING`): `duplicate`.
 * 3. `woken`: a job `waiting` for this topic is made due now, and announced `ready`.
 *
 * The lock is what makes a signal never lost against a suspension (`suspend-job.ts`): the
 * suspension locks the same row, then looks for unconsumed signals in a new statement. If it
 * holds the lock, this statement waits for its commit, and the locking read then returns the
 * row as the suspension left it (`waiting` for the topic), which step 3 tests: it tests
 * `job.*`, the locked version, not its own snapshot's (the UPDATE re-reads the row it locked).
 * If this statement commits first, the suspension sees the signal. `FOR NO KEY UPDATE`, the
 * lock an UPDATE takes, and not `FOR UPDATE`, which would also block the steps and signals
 * whose foreign keys name the job.
 */
export async function signalJob(
  exec: SqlExecutor,
  names: SchemaNames,
  input: SignalInput,
): Promise<{ result: SignalResult; events: StorageEvent[] }> {
  if (!isUuid(input.jobId)) return { result: { status: 'job-not-found' }, events: [] };
  const [row] = await exec(
    `
    WITH job AS (
      SELECT id, status, wake_topic FROM ${names.jobs} WHERE id = $1 FOR NO KEY UPDATE
    ), stored AS (
      INSERT INTO ${names.signals} (id, job_id, topic, payload, idempotency_key, created_at)
      SELECT $2, job.id, $3, $4, $5, $6 FROM job
      WHERE job.status NOT IN ('success', 'dead', 'cancelled')
      ON CONFLICT (job_id, idempotency_key) DO NOTHING
      RETURNING id
    ), woken AS (
      UPDATE ${names.jobs} AS p
      SET ${WAKE_SET}, run_at = $6
      FROM job, stored
      WHERE p.id = job.id AND job.status = 'waiting' AND job.wake_topic = $3
      RETURNING p.id, p.name, p.status, p.run_at
    ), ${announceWokenSql('$7')}
    SELECT job.status, (SELECT count(*) FROM stored) AS stored, ${WOKEN_COLUMNS} FROM job`,
    [
      input.jobId,
      input.id,
      input.topic,
      input.payload,
      input.idempotencyKey,
      input.now,
      names.channel,
    ],
  );
  if (!row) return { result: { status: 'job-not-found' }, events: [] };
  const status = row.status as string;
  if (status === 'success' || status === 'dead' || status === 'cancelled') {
    return { result: { status: 'job-finished', jobStatus: status }, events: [] };
  }
  if (Number(row.stored) === 0) return { result: { status: 'duplicate' }, events: [] };
  const events = wokenEvents(row);
  return { result: { status: 'stored', woke: events.length > 0 }, events };
}

/**
 * After a connection error: whether an earlier send of this signal committed (its reply lost).
 * Signal ids are the engine's, so a stored row with this id is ours.
 */
export async function signalWasStored(
  exec: SqlExecutor,
  names: SchemaNames,
  input: SignalInput,
): Promise<boolean> {
  if (!isUuid(input.id)) return false;
  const rows = await exec(`SELECT 1 FROM ${names.signals} WHERE id = $1`, [input.id]);
  return rows.length > 0;
}
