import type { AckInput, JobStatus, StorageEvent } from 'reseolio/storage';
import { isUuid } from '../job-row.ts';
import { announceSql, eventFor } from '../notify.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';
import { prevSql, recordAttemptSql } from './wake-parent.ts';

export type SuspendAck = Extract<AckInput, { kind: 'suspend' }>;

/**
 * The `suspend` ack, in one transaction (`tx`) of two statements:
 *
 * 1. The fence, locking the job's row: `SELECT … WHERE id AND lease_token AND running FOR NO
 *    KEY UPDATE` (the lease-expiry fence too when given). No row: nothing is written, false.
 * 2. A NEW statement checks the wake condition and writes the job: `pending`, due at `now`,
 *    when it holds already (an unconsumed signal of the topic; one of the awaited children
 *    final), else `waiting` at `run_at` with `waiting_for` and what wakes it (`wake_topic`,
 *    `wake_children`). The attempt is stored as given, owner and lease cleared, and the job
 *    announced `ready` at its `run_at`. The attempt is recorded `suspended` in the same
 *    statement, from the row as the lock left it (the statement's snapshot).
 *
 * Why two statements: under READ COMMITTED each statement sees what was committed when it
 * started. A single statement would check the condition on a snapshot taken before it waited
 * for the row lock, and miss a signal committed meanwhile. The second statement starts after
 * the lock is ours, so it sees everything committed before.
 *
 * The race it closes: `signal()` locks the same job row before it inserts (see
 * `signal-job.ts`). Either the signal's transaction commits first, and step 2 sees its signal
 * (the job is due at once), or the suspension commits first, and the signal, whose locking
 * read waited and then returns the newest version of the row, sees `waiting` for its topic
 * and wakes the job. A child ending locks its parent's row the same way (`wake-parent.ts`).
 * So a signal or a child's end is never lost between the handler's check and its suspension.
 *
 * Only the job's own row is locked (the children are read, not locked), so this cannot take
 * part in a lock cycle.
 */
export async function suspendJob(
  tx: SqlExecutor,
  names: SchemaNames,
  input: SuspendAck,
): Promise<{ acked: boolean; events: StorageEvent[] }> {
  if (!isUuid(input.id)) return { acked: false, events: [] };
  const expired = input.leaseExpiredBefore !== undefined;
  const fenced = await tx(
    `SELECT id FROM ${names.jobs}
     WHERE id = $1 AND lease_token = $2 AND status = 'running'${expired ? ' AND lease_expires_at < $3' : ''}
     FOR NO KEY UPDATE`,
    [input.id, input.leaseToken, ...(expired ? [input.leaseExpiredBefore] : [])],
  );
  if (fenced.length === 0) return { acked: false, events: [] };
  const { wake } = input;
  const children = wake.kind === 'children' ? wake.jobIds.filter(isUuid) : [];
  // Each waiting column, or its value when the job is due at once instead.
  const unlessWoken = (waiting: string, woken: string) =>
    `CASE WHEN wakes.now THEN ${woken} ELSE ${waiting} END`;
  const [row] = await tx(
    `
    WITH ${prevSql(names)}, wakes AS (
      SELECT ($3::text IS NOT NULL AND EXISTS (
               SELECT 1 FROM ${names.signals}
               WHERE job_id = $1 AND topic = $3 AND consumed_at IS NULL))
          OR EXISTS (
               SELECT 1 FROM ${names.jobs}
               WHERE id = ANY($4::uuid[]) AND status IN ('success', 'dead', 'cancelled')) AS now
    ), ended AS (
      UPDATE ${names.jobs} AS j
      SET status = ${unlessWoken("'waiting'", "'pending'")},
          run_at = ${unlessWoken('$6::bigint', '$5::bigint')},
          waiting_for = ${unlessWoken('$7::text', 'NULL')},
          wake_topic = ${unlessWoken('$3::text', 'NULL')},
          wake_children = ${unlessWoken('$8::boolean', 'NULL')},
          attempt = $9, owner_id = NULL, lease_expires_at = NULL
      FROM wakes
      WHERE j.id = $1 AND j.lease_token = $2
      RETURNING j.id, j.name, j.status, j.run_at
    ), ${recordAttemptSql(names, { before: 'prev', endedAt: '$5::bigint', outcome: "'suspended'", error: 'NULL' })}
    SELECT ended.*, ${announceSql('$10', 'ended')} AS announced FROM ended`,
    [
      input.id,
      input.leaseToken,
      wake.kind === 'signal' ? wake.topic : null,
      children,
      input.now,
      input.runAt,
      input.waitingFor,
      wake.kind === 'children',
      input.attempt,
      names.channel,
    ],
  );
  const event = eventFor({
    id: row!.id as string,
    name: row!.name as string,
    status: row!.status as JobStatus,
    runAt: Number(row!.run_at),
  });
  return { acked: true, events: [event] };
}
