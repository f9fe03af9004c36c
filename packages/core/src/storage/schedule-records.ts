import type { EnqueueResult, NewJob } from './records.ts';

/**
 * Schedules as storage keeps them. As with jobs, every time is an epoch-millisecond number
 * the engine chose (storage never reads the clock), and `args` is the argument list the
 * engine serialized. The engine computes ticks (cron, time zone, catch-up); storage only
 * claims them, atomically with the jobs they make.
 */

/** `paused` schedules make no runs until resumed (a manual trigger still works). */
export type ScheduleStatus = 'active' | 'paused';

/** Every schedule status. */
export const SCHEDULE_STATUSES: readonly ScheduleStatus[] = Object.freeze(['active', 'paused']);

/**
 * What a schedule does with the ticks it missed while no node could fire them:
 * `'skip'` none, `'latest'` one run for the newest, `'all'` one run per tick (bounded by the
 * catch-up window).
 */
export type ScheduleCatchUp = 'skip' | 'latest' | 'all';

/** `'skip'`: no new run while the schedule's last run is unfinished. */
export type ScheduleOverlap = 'allow' | 'skip';

/** One schedule as storage keeps it. */
export interface ScheduleRecord {
  /** Chosen by the application (`'reports:daily'`); the key of every schedule call. */
  id: string;
  /** The durable function each run enqueues. */
  name: string;
  /** 5 fields, or 6 with seconds first. */
  cron: string;
  /** IANA time zone the cron's wall-clock times are read in. */
  timezone: string;
  /** Serialized argument list of every run. */
  args: string;
  status: ScheduleStatus;
  catchUp: ScheduleCatchUp;
  overlap: ScheduleOverlap;
  /** With `catchUp: 'all'`, ticks older than this many ms are not caught up. */
  catchUpWindowMs: number;
  /** The first tick not yet fired; null when the cron never fires again. */
  nextRunAt: number | null;
  /** The tick time of the newest run (its job's `runAt`); null before the first. */
  lastRunAt: number | null;
  /** The newest run's job id; null before the first. */
  lastJobId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** The fields a schedule's declaration sets (`upsertSchedule`, `updateSchedule`). */
export interface ScheduleDefinition {
  name: string;
  cron: string;
  timezone: string;
  args: string;
  catchUp: ScheduleCatchUp;
  overlap: ScheduleOverlap;
  catchUpWindowMs: number;
}

/**
 * `upsertSchedule`: declares a schedule, as an application does at every start.
 * - New id: inserted `active`, `createdAt = updatedAt = now`, `nextRunAt` as given.
 * - Existing id: the definition is overwritten; `status` is never changed (a schedule paused
 *   at runtime stays paused across deploys); `nextRunAt` is replaced by the given one only
 *   when `cron` or `timezone` changed (otherwise the stored one is kept, so ticks missed
 *   during the deploy are still caught up); `updatedAt = now` only when a field changed.
 */
export interface ScheduleUpsert extends ScheduleDefinition {
  id: string;
  /** The first tick after `now` under this cron and zone; null when it never fires. */
  nextRunAt: number | null;
  now: number;
}

export interface ScheduleUpsertResult {
  schedule: ScheduleRecord;
  /** True when no schedule had this id before. */
  created: boolean;
}

/** `updateSchedule`: sets the given fields and `updatedAt = now`; other fields stay. */
export interface ScheduleUpdate {
  id: string;
  patch: Partial<ScheduleDefinition> & {
    status?: ScheduleStatus | undefined;
    nextRunAt?: number | null | undefined;
  };
  /** Applies only when the schedule has this status (a resume of a paused one, say). */
  ifStatus?: ScheduleStatus | undefined;
  now: number;
}

export interface ScheduleFilter {
  status?: ScheduleStatus | undefined;
  /** Schedules of this durable function. */
  name?: string | undefined;
  /** 1 to 1000. @default 100 */
  limit?: number | undefined;
  /** @default 0 */
  offset?: number | undefined;
}

/** `listDueSchedules`: what a node may fire now. */
export interface DueSchedulesInput {
  /** Only schedules whose function is one of these (a node fires what it registered). */
  names: readonly string[];
  /** Active schedules with `nextRunAt <= now`, soonest first. */
  now: number;
  limit: number;
}

/**
 * `fireSchedule`: the runs of a schedule, written in ONE transaction with the claim of its
 * tick, so that a crash either leaves the tick unclaimed (another node fires it) or leaves
 * both the claim and its jobs. Each job's `idempotencyKey` derives from the schedule id and
 * its tick time, and its `scheduleId` is the schedule's, so even a tick fired twice makes one
 * job.
 */
export interface FireScheduleInput {
  id: string;
  /**
   * The tick claim, a compare-and-set: the write applies only while the schedule is `active`
   * and its `nextRunAt` equals `expectedNextRunAt`, and it stores `nextRunAt`. Absent for a
   * manual trigger: it applies whatever the status, and `nextRunAt` is kept.
   */
  claim?: { expectedNextRunAt: number; nextRunAt: number | null } | undefined;
  /**
   * Inserted (deduplicated like `enqueueMany`) after the claim; oldest tick first. May be
   * empty (ticks skipped by policy still advance `nextRunAt`). With jobs, the schedule's
   * `lastRunAt` becomes the last job's `runAt` and `lastJobId` its id (the existing job's
   * when it was deduplicated).
   */
  jobs: readonly NewJob[];
  /** The time of the write. Firing is not an edit: `updatedAt` is kept. */
  now: number;
}

export interface FireScheduleResult {
  /** The schedule after the write. */
  schedule: ScheduleRecord;
  /** One per input job, in order, as `enqueueMany` answers. */
  jobs: EnqueueResult[];
}
