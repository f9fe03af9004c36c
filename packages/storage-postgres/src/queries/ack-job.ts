import {
  type AckInput,
  attemptOutcomeOf,
  type JobStatus,
  type StorageEvent,
} from 'reseolio/storage';
import { isUuid } from '../job-row.ts';
import { announceFinishedBatchSql, eventFor } from '../notify.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';
import {
  announceWokenSql,
  ENDED_COLUMNS,
  lockWithParentSql,
  recordAttemptSql,
  WOKEN_COLUMNS,
  wakeParentSql,
  wokenEvents,
  writeJobSql,
} from './wake-parent.ts';

/** Every ack but a suspension (a transaction of its own: see `suspend-job.ts`). */
export type EndingAck = Exclude<AckInput, { kind: 'suspend' }>;

/** What each kind of ack writes; `$3`/`$4` are bound by {@link ackJob}. */
const ACK_UPDATES: Record<EndingAck['kind'], string> = {
  success: `status = 'success', result = $3, completed_at = $4`,
  retry: `status = 'pending', error = $3, run_at = $4`,
  dead: `status = 'dead', error = $3, completed_at = $4`,
  // Handed back on shutdown: claimable at once, with the attempt count the engine gives (it
  // gives back the attempt the claim counted). The next claim writes a new token, so giving
  // the attempt number back reuses no fence.
  release: `status = 'pending', run_at = $3, attempt = $4`,
};

function ackValues(input: EndingAck): unknown[] {
  switch (input.kind) {
    case 'success':
      return [input.result, input.now];
    case 'retry':
      return [input.error, input.runAt];
    case 'dead':
      return [input.error, input.now];
    case 'release':
      return [input.now, input.attempt];
  }
}

/**
 * Ends an attempt. The WHERE clause is the fence: (id, lease token, `running`). A worker whose
 * lease expired, whose job was swept, re-claimed (a new token, even by the same worker after a
 * crash undid its claim) or cancelled matches no row, so its late ack changes nothing and it
 * is told so (false). The owner and lease are cleared: nobody holds a job that is not
 * running. The token stays, naming the claim whose outcome the row now holds.
 *
 * With `leaseExpiredBefore` (the engine ending an attempt whose lease it found expired), the
 * lease must also still be expired. The UPDATE re-reads a row that a concurrent heartbeat
 * changed once that heartbeat commits, so a heartbeat that lands first wins and this matches
 * nothing.
 *
 * A success or dead ack also wakes the job's parent when it waits for its children, in the
 * same statement (see `wake-parent.ts`). The attempt it ends is recorded in the same statement
 * too (`recordAttemptSql`): no round trip is added.
 */
export async function ackJob(
  exec: SqlExecutor,
  names: SchemaNames,
  input: EndingAck,
): Promise<{ acked: boolean; events: StorageEvent[] }> {
  if (!isUuid(input.id)) return { acked: false, events: [] };
  const expired = input.leaseExpiredBefore !== undefined;
  const failed = input.kind === 'retry' || input.kind === 'dead';
  const rows = await exec(
    writeJobSql(names, {
      set: `${ACK_UPDATES[input.kind]}, owner_id = NULL, lease_expires_at = NULL`,
      fence: `j.lease_token = $2 AND j.status = 'running'${expired ? ' AND j.lease_expires_at < $7' : ''}`,
      channelParam: '$5',
      outcome: true,
      wakeParent: input.kind === 'success' || input.kind === 'dead',
      attempt: {
        endedAt: '$6::bigint',
        outcome: `'${attemptOutcomeOf(input)}'`,
        // A failed or lost attempt's error is the one the ack stores ($3).
        error: failed ? '$3::text' : 'NULL',
      },
    }),
    [
      input.id,
      input.leaseToken,
      ...ackValues(input),
      names.channel,
      input.now,
      ...(expired ? [input.leaseExpiredBefore] : []),
    ],
  );
  const row = rows[0];
  if (!row) return { acked: false, events: [] };
  const event = eventFor(
    {
      id: row.id as string,
      name: row.name as string,
      status: row.status as JobStatus,
      runAt: Number(row.run_at),
    },
    { result: row.result as string | null, error: row.error as string | null },
  );
  return { acked: true, events: [event, ...wokenEvents(row)] };
}

/**
 * After a connection error, an ack may have committed with its reply lost; re-sending it then
 * fails the fence. This reads whether the row shows exactly what this ack wrote (its status
 * and the time it set, under this ack's lease token, which only this claim ever wrote), so the
 * caller can still answer true. Someone else's later write makes it answer false, which is
 * also what the engine should then believe.
 */
export async function ackWasApplied(
  exec: SqlExecutor,
  names: SchemaNames,
  input: AckInput,
): Promise<boolean> {
  if (!isUuid(input.id)) return false;
  const [row] = await exec(
    `SELECT status, run_at, completed_at FROM ${names.jobs} WHERE id = $1 AND lease_token = $2`,
    [input.id, input.leaseToken],
  );
  if (!row) return false;
  const runAt = Number(row.run_at);
  const completedAt = row.completed_at == null ? null : Number(row.completed_at);
  switch (input.kind) {
    case 'success':
    case 'dead':
      return row.status === input.kind && completedAt === input.now;
    case 'retry':
      return row.status === 'pending' && runAt === input.runAt;
    case 'release':
      return row.status === 'pending' && runAt === input.now;
    case 'suspend':
      // Waiting as asked, or due at once because its wake condition held.
      return (
        (row.status === 'waiting' && runAt === input.runAt) ||
        (row.status === 'pending' && runAt === input.now)
      );
  }
}

/**
 * Records many successes in one statement: `unnest` pairs each job with its own fence and
 * result. The WHERE clause is the same fence as {@link ackJob}'s, row by row, so an item whose
 * lease was lost matches nothing while the others commit. The acked rows are announced
 * `finished` in the same statement, a hundred per notification, so the notifications leave
 * only with the commit. Parents waiting for their children are woken and announced `ready`
 * in the same statement, like {@link ackJob} does, and their attempts recorded by one
 * INSERT ... SELECT over the batch.
 *
 * Rows, the jobs' and their parents', are locked in id order before they are written, like
 * `heartbeatJobs` does: the two run at once over the same jobs, and locking in different
 * orders deadlocks (see there). The fence is evaluated on the newest version of the row, so
 * a row that changed while we waited is re-checked. Returns the ids that matched, and the
 * `ready` events of the woken parents.
 */
export async function ackSuccesses(
  exec: SqlExecutor,
  names: SchemaNames,
  inputs: readonly Extract<AckInput, { kind: 'success' }>[],
): Promise<{ ids: Set<string>; events: StorageEvent[] }> {
  const valid = inputs.filter((input) => isUuid(input.id));
  if (valid.length === 0) return { ids: new Set(), events: [] };
  const rows = await exec(
    `
    WITH ${lockWithParentSql(names, '$1::uuid[]')},
    ended AS (
      UPDATE ${names.jobs} AS j
      SET status = 'success', result = input.result, completed_at = input.completed_at,
          owner_id = NULL, lease_expires_at = NULL
      FROM locked
      JOIN unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[])
          AS input(id, lease_token, result, completed_at)
        ON input.id = locked.id
      WHERE j.id = locked.id AND j.lease_token = input.lease_token AND j.status = 'running'
      RETURNING ${ENDED_COLUMNS}
    ), ${wakeParentSql(names, 'ended')}, ${announceWokenSql('$5')},
    ${recordAttemptSql(names, { before: 'locked', endedAt: 'e.completed_at', outcome: "'success'", error: 'NULL' })},
    numbered AS (
      SELECT id, status, result, error, row_number() OVER () AS rn FROM ended
    ), announced AS (
      ${announceFinishedBatchSql('$5', 'numbered')}
    )
    SELECT id, (SELECT count(*) FROM announced) AS announced, ${WOKEN_COLUMNS} FROM ended`,
    [
      valid.map((input) => input.id),
      valid.map((input) => input.leaseToken),
      valid.map((input) => input.result),
      valid.map((input) => input.now),
      names.channel,
    ],
  );
  return { ids: new Set(rows.map((row) => row.id as string)), events: wokenEvents(rows[0]) };
}
