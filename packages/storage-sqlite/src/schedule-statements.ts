import type { Database, Statement } from 'better-sqlite3';
import type { ScheduleRecord } from 'reseolio/storage';

/** Columns aliased to `ScheduleRecord` fields, so rows need no mapping. */
const SCHEDULE = `id, name, cron, timezone, args, status, catch_up AS catchUp, overlap,
  catch_up_window_ms AS catchUpWindowMs, next_run_at AS nextRunAt, last_run_at AS lastRunAt,
  last_job_id AS lastJobId, created_at AS createdAt, updated_at AS updatedAt`;

/** The definition columns of a schedule whose change is an edit (`updatedAt = now`). */
const DEFINITION = [
  'name',
  'cron',
  'timezone',
  'args',
  'catch_up',
  'overlap',
  'catch_up_window_ms',
] as const;

/**
 * Prepared statements of schedules, compiled once per connection beside the jobs' ones
 * (statements.ts). Every write runs inside one of the adapter's transactions (transactions.ts).
 * @internal
 */
export interface ScheduleStatements {
  scheduleExists: Statement<[string], 1>;
  upsertSchedule: Statement<object, ScheduleRecord>;
  getSchedule: Statement<[string], ScheduleRecord>;
  updateSchedule: Statement<object, ScheduleRecord>;
  deleteSchedule: Statement<[string]>;
  listDueSchedules: Statement<object, ScheduleRecord>;
  nextScheduleRunAt: Statement<[string], number | null>;
  claimTick: Statement<object, { id: string }>;
  recordRun: Statement<object, ScheduleRecord>;
}

/** @internal */
export function prepareScheduleStatements(db: Database): ScheduleStatements {
  return {
    scheduleExists: db
      .prepare<[string], 1>('SELECT 1 FROM reseolio_schedules WHERE id = ?')
      .pluck(),
    // A declaration: a new id is inserted active; an existing one gets the definition but keeps
    // its status, keeps its next run unless the cron or the zone changed (ticks missed during a
    // deploy are still caught up), and keeps `updated_at` unless a field changed. SQLite
    // evaluates every SET expression on the row as it was, so the comparisons see the old
    // values.
    upsertSchedule: db.prepare(`
      INSERT INTO reseolio_schedules (id, name, cron, timezone, args, status, catch_up, overlap,
        catch_up_window_ms, next_run_at, created_at, updated_at)
      VALUES (@id, @name, @cron, @timezone, @args, 'active', @catchUp, @overlap,
        @catchUpWindowMs, @nextRunAt, @now, @now)
      ON CONFLICT (id) DO UPDATE SET
        ${DEFINITION.map((column) => `${column} = excluded.${column}`).join(', ')},
        next_run_at = CASE WHEN cron IS NOT excluded.cron OR timezone IS NOT excluded.timezone
          THEN excluded.next_run_at ELSE next_run_at END,
        updated_at = CASE WHEN ${DEFINITION.map((column) => `${column} IS NOT excluded.${column}`).join(' OR ')}
          THEN excluded.updated_at ELSE updated_at END
      RETURNING ${SCHEDULE}`),
    getSchedule: db.prepare(`SELECT ${SCHEDULE} FROM reseolio_schedules WHERE id = ?`),
    // A patch: a null parameter leaves its column as it is. Only `next_run_at` may be set to
    // null, so it has a flag of its own.
    updateSchedule: db.prepare(`
      UPDATE reseolio_schedules
      SET name = coalesce(@name, name), cron = coalesce(@cron, cron),
        timezone = coalesce(@timezone, timezone), args = coalesce(@args, args),
        status = coalesce(@status, status), catch_up = coalesce(@catchUp, catch_up),
        overlap = coalesce(@overlap, overlap),
        catch_up_window_ms = coalesce(@catchUpWindowMs, catch_up_window_ms),
        next_run_at = CASE WHEN @setNextRunAt THEN @nextRunAt ELSE next_run_at END,
        updated_at = @now
      WHERE id = @id AND (@ifStatus IS NULL OR status = @ifStatus)
      RETURNING ${SCHEDULE}`),
    deleteSchedule: db.prepare('DELETE FROM reseolio_schedules WHERE id = ?'),
    // Both read the partial due index (schema.ts), one range per name; `names` is a JSON
    // array, so one prepared statement fits any list. `+ 0`: see LIMIT in statements.ts.
    listDueSchedules: db.prepare(`
      SELECT ${SCHEDULE} FROM reseolio_schedules
      WHERE status = 'active' AND next_run_at <= @now
        AND name IN (SELECT value FROM json_each(@names))
      ORDER BY next_run_at, id
      LIMIT @limit + 0`),
    nextScheduleRunAt: db
      .prepare<[string], number | null>(`
      SELECT min(next_run_at) FROM reseolio_schedules
      WHERE status = 'active' AND next_run_at IS NOT NULL
        AND name IN (SELECT value FROM json_each(?))`)
      .pluck(),
    // The tick's compare-and-set: only one writer sees this next run. A manual trigger
    // (`@claim` 0) matches the schedule whatever its status and keeps its next run.
    claimTick: db.prepare(`
      UPDATE reseolio_schedules
      SET next_run_at = CASE WHEN @claim THEN @nextRunAt ELSE next_run_at END
      WHERE id = @id AND (NOT @claim OR (status = 'active' AND next_run_at = @expectedNextRunAt))
      RETURNING id`),
    // Firing is not an edit: `updated_at` stays.
    recordRun: db.prepare(`
      UPDATE reseolio_schedules SET last_run_at = @lastRunAt, last_job_id = @lastJobId
      WHERE id = @id
      RETURNING ${SCHEDULE}`),
  };
}
