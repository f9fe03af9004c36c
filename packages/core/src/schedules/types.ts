import type {
  ScheduleCatchUp,
  ScheduleOverlap,
  ScheduleStatus,
} from '../storage/schedule-records.ts';

export type { ScheduleCatchUp, ScheduleOverlap, ScheduleStatus };

/**
 * How a schedule runs its durable function: `reseolio.schedule(id, fn, options)`.
 * `A` is the function's argument list.
 */
export interface ScheduleOptions<A extends unknown[] = unknown[]> {
  /**
   * 5 fields (`minute hour day-of-month month day-of-week`), or 6 with seconds first:
   * `'0 9 * * 1-5'` is 09:00 on weekdays, `'*\/10 * * * * *'` every ten seconds.
   */
  cron: string;
  /**
   * The IANA time zone the cron's wall-clock times are read in (`'Europe/Berlin'`). On the
   * days clocks change, a tick in the skipped hour runs once at the jump, and a tick in the
   * repeated hour runs once, at its first occurrence. @default 'UTC'
   */
  timezone?: string | undefined;
  /** The arguments of every run, stored with the schedule. @default [] */
  args?: A | undefined;
  /**
   * What happens to ticks missed while no node could run them (every node down, the
   * function registered nowhere): `'skip'` runs none of them, `'latest'` one run for the
   * newest, `'all'` one run per missed tick (each with its own `runAt`), at most 100 and none
   * older than `catchUpWindowMs`. @default 'latest'
   */
  catchUp?: ScheduleCatchUp | undefined;
  /**
   * With `catchUp: 'all'`, ticks older than this are not run, in milliseconds, from 1 to
   * 2147483647. @default 86400000 (one day)
   */
  catchUpWindowMs?: number | undefined;
  /**
   * `'skip'`: a tick whose previous run has not finished (pending or running) makes no run.
   * @default 'allow'
   */
  overlap?: ScheduleOverlap | undefined;
}

/** What `updateSchedule(id, patch)` may change; absent fields stay as they are. */
export type SchedulePatch<A extends unknown[] = unknown[]> = Partial<ScheduleOptions<A>>;

/** `listSchedules(filter)`. */
export interface ScheduleListFilter {
  status?: ScheduleStatus | undefined;
  /** Schedules of this durable function. */
  name?: string | undefined;
  /** 1 to 1000. @default 100 */
  limit?: number | undefined;
  /** @default 0 */
  offset?: number | undefined;
}

/** A schedule as stored, with real values and `Date`s. */
export interface ScheduleInfo<A extends unknown[] = unknown[]> {
  id: string;
  /** The durable function every run enqueues. */
  name: string;
  cron: string;
  timezone: string;
  args: A;
  status: ScheduleStatus;
  catchUp: ScheduleCatchUp;
  catchUpWindowMs: number;
  overlap: ScheduleOverlap;
  /** The next tick to run (for a paused schedule: the one it would run); null when the cron never fires again. */
  nextRunAt: Date | null;
  /** The tick time of the newest run (a trigger's: when it was triggered). */
  lastRunAt: Date | null;
  /** The job of the newest run: `reseolio.getHandle(lastJobId)`. */
  lastJobId: string | null;
  createdAt: Date;
  updatedAt: Date;
}
