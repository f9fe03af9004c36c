import type { StorageEvent } from 'reseolio/storage';
import { announceSql } from '../notify.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { Row } from '../sql-executor.ts';

/**
 * A job reaching a final status (a success or dead ack, a cancel) wakes its parent when the
 * parent is `waiting` for children, in the same statement: the writes below are CTEs around
 * the job's own UPDATE, so a job without a parent pays no extra round trip.
 *
 * The race they close: a parent suspends ("wait for my children") while a child ends. The
 * suspension locks the parent's row, then looks for a final child in a new statement (see
 * `suspend-job.ts`). If the child's statement merely ran `UPDATE parent … WHERE status =
 * 'waiting'`, it would test its own snapshot's version of the parent, still `running` while
 * the suspension is uncommitted, skip the row without waiting for its lock, and the parent
 * would sleep on while the suspension's snapshot did not see the child end either. So the
 * child's statement LOCKS the parent's row whatever its status ({@link lockWithParentSql}):
 * the lock waits for a suspension in progress, and a locking read returns the newest
 * committed version of the row. The wake then tests that version's columns (`locked.*`), not
 * its own snapshot's; the UPDATE re-reads the row it locked (EvalPlanQual). Either the
 * suspension commits first and the child sees `waiting`, or the child commits first and the
 * suspension's second statement sees the child final.
 *
 * Lock order: the job and its parent are locked in id order, like every statement that locks
 * several jobs (heartbeats, batched acks), so they cannot deadlock with one another.
 */

/**
 * A CTE `locked` locking the jobs `$idsExpr` (a uuid[] expression) and their parents, in id
 * order, returning the newest version of each.
 */
export function lockWithParentSql(names: SchemaNames, idsExpr: string): string {
  return `
    locked AS (
      SELECT ${ATTEMPT_COLUMNS}, wake_children FROM ${names.jobs}
      WHERE id = ANY(${idsExpr} || ARRAY(
        SELECT parent_id FROM ${names.jobs} WHERE id = ANY(${idsExpr}) AND parent_id IS NOT NULL))
      ORDER BY id
      FOR NO KEY UPDATE
    )`;
}

/**
 * The job columns an attempt's record is made from, as they were before the write that ends
 * it: read by `locked` (the newest committed version, locked) or `prev` (the statement's
 * snapshot).
 */
const ATTEMPT_COLUMNS = 'id, status, lease_token, attempt, owner_id, started_at';

/**
 * The CTE `recorded`: inserts the attempt each row of `ended` ended, from its columns before
 * the write in `before` (`locked` or `prev`, see {@link ATTEMPT_COLUMNS}), when it was
 * running. `endedAt`, `outcome` and `error` are SQL expressions (on `e`, the ended row, or
 * parameters). A data-modifying CTE runs whether or not the statement reads it.
 */
export function recordAttemptSql(
  names: SchemaNames,
  attempt: { before: 'locked' | 'prev'; endedAt: string; outcome: string; error: string },
): string {
  const { before, endedAt, outcome, error } = attempt;
  return `
    recorded AS (
      INSERT INTO ${names.attempts}
        (job_id, lease_token, attempt, worker_id, started_at, ended_at, outcome, error)
      SELECT b.id, b.lease_token, b.attempt, b.owner_id, coalesce(b.started_at, ${endedAt}),
             ${endedAt}, ${outcome}, ${error}
      FROM ended AS e JOIN ${before} AS b ON b.id = e.id
      WHERE b.status = 'running' AND b.lease_token IS NOT NULL
      ON CONFLICT DO NOTHING
    )`;
}

/** The CTE `prev`: the job `$1` as the statement's snapshot sees it (before its write). */
export function prevSql(names: SchemaNames): string {
  return `
    prev AS (SELECT ${ATTEMPT_COLUMNS} FROM ${names.jobs} WHERE id = $1)`;
}

/** How the attempt a write ends is recorded (`writeJobSql`'s `attempt`); SQL expressions. */
export interface AttemptEnd {
  endedAt: string;
  outcome: string;
  error: string;
}

/** The columns an ended job's UPDATE returns for {@link wakeParentSql} and its announcement. */
export const ENDED_COLUMNS =
  'j.id, j.name, j.status, j.run_at, j.result, j.error, j.parent_id, j.completed_at';

/**
 * One job's write, fenced by `fence` (a condition on `j`, the job `$1`), announced on
 * `channelParam`, and, with `wakeParent` (writes that make the job final), waking its parent.
 * Returns the written row (ENDED_COLUMNS), `announced`, and with `wakeParent`
 * {@link WOKEN_COLUMNS}; no row when the fence failed.
 */
export function writeJobSql(
  names: SchemaNames,
  options: {
    set: string;
    fence: string;
    channelParam: string;
    outcome: boolean;
    wakeParent: boolean;
    /** Records the attempt the write ends (when the job was running). */
    attempt?: AttemptEnd | undefined;
  },
): string {
  const { set, fence, channelParam, outcome, wakeParent, attempt } = options;
  // The locking read of a waking write serves the attempt record too; otherwise the snapshot
  // does: the fence (this claim's token, running) guarantees it shows this attempt's claim.
  const lock = wakeParent
    ? `${lockWithParentSql(names, 'ARRAY[$1::uuid]')},`
    : attempt
      ? `${prevSql(names)},`
      : '';
  const wake = wakeParent
    ? `, ${wakeParentSql(names, 'ended')}, ${announceWokenSql(channelParam)}`
    : '';
  const record = attempt
    ? `, ${recordAttemptSql(names, { before: wakeParent ? 'locked' : 'prev', ...attempt })}`
    : '';
  return `
    WITH ${lock}
    ended AS (
      UPDATE ${names.jobs} AS j
      SET ${set}
      ${wakeParent ? 'FROM locked' : ''}
      WHERE j.id = $1${wakeParent ? ' AND locked.id = j.id' : ''} AND ${fence}
      RETURNING ${ENDED_COLUMNS}
    )${wake}${record}
    SELECT ended.*, ${announceSql(channelParam, 'ended', { outcome })} AS announced${wakeParent ? `, ${WOKEN_COLUMNS}` : ''}
    FROM ended`;
}

/**
 * The CTE `woken`: the parents of the rows of `ended` (final now) that wait for children,
 * made due at their child's `completed_at` (the latest, when several of a batch end). Needs
 * {@link lockWithParentSql}'s `locked` to have locked those parents.
 */
export function wakeParentSql(names: SchemaNames, ended: string): string {
  return `
    woken AS (
      UPDATE ${names.jobs} AS p
      SET ${WAKE_SET}, run_at = woke.now
      FROM (
        SELECT ${ended}.parent_id AS id, max(${ended}.completed_at) AS now FROM ${ended}
        WHERE ${ended}.status IN ('success', 'dead', 'cancelled')
        GROUP BY ${ended}.parent_id
      ) AS woke
      JOIN locked ON locked.id = woke.id
      WHERE p.id = woke.id AND locked.status = 'waiting' AND locked.wake_children
      RETURNING p.id, p.name, p.status, p.run_at
    )`;
}

/** What a wake writes besides `run_at`: due, and nothing left of the wait. */
export const WAKE_SET =
  "status = 'pending', waiting_for = NULL, wake_topic = NULL, wake_children = NULL";

/**
 * The CTE `woken_announced`, announcing every row of `woken` as `ready`. The statement must
 * read it (an unread plain CTE is not run): {@link WOKEN_COLUMNS} does.
 */
export function announceWokenSql(channelParam: string): string {
  return `
    woken_announced AS (SELECT ${announceSql(channelParam, 'w')} FROM woken AS w)`;
}

/** Select-list columns: runs the announcements, and returns the woken parents as JSON. */
export const WOKEN_COLUMNS =
  '(SELECT count(*) FROM woken_announced) AS woken_announced, ' +
  "(SELECT json_agg(json_build_object('name', w.name, 'runAt', w.run_at)) FROM woken AS w) AS woken";

/** The `ready` events of the woken parents in {@link WOKEN_COLUMNS}. */
export function wokenEvents(row: Row | undefined): StorageEvent[] {
  const woken = row?.woken as { name: string; runAt: number | string }[] | null | undefined;
  return (woken ?? []).map((w) => ({ type: 'ready', name: w.name, runAt: Number(w.runAt) }));
}
