import type { ParsedSchedule } from './cron.ts';

/**
 * Which due ticks of a schedule become jobs when it is checked late (after downtime, or a
 * timer that fired late):
 * - `'skip'`: only the latest due tick, and only when it is on time (see {@link skipGraceMs});
 * - `'latest'`: the latest due tick, however late;
 * - `'all'`: every due tick within `catchUpWindowMs` of now, at most `limit`, the newest ones.
 */
export type CatchUpPolicy = 'skip' | 'latest' | 'all';

export interface DueTicksInput {
  schedule: ParsedSchedule;
  /** The first tick not yet fired (stored on the schedule), epoch ms. */
  nextRunAt: number;
  now: number;
  catchUp: CatchUpPolicy;
  /** 'all' runs only ticks not older than this. @default 86_400_000 (1 day) */
  catchUpWindowMs?: number;
  /** 'all' runs at most this many ticks, the newest ones. @default 100 */
  limit?: number;
}

export interface DueTicks {
  /** Tick times (epoch ms, ascending) to make one job each. */
  ticks: number[];
  /**
   * Due ticks (nextRunAt <= t <= now) not in `ticks`: missed by policy. Counted one by one up to
   * {@link MAX_COUNTED_SKIPS}: a value of `MAX_COUNTED_SKIPS` means that many or more.
   */
  skipped: number;
  /** The first tick strictly after `now`, to store as the schedule's next run; undefined when it never fires again. */
  nextRunAt: number | undefined;
}

/** The `catchUpWindowMs` of `'all'` when none is given: one day. */
export const DEFAULT_CATCH_UP_WINDOW_MS = 86_400_000;

/** The `limit` of `'all'` when none is given. */
export const DEFAULT_CATCH_UP_LIMIT = 100;

/** The most a tick can be late and still count as on time under `'skip'`. */
export const MAX_SKIP_GRACE_MS = 10_000;

/**
 * `skipped` counts the missed ticks one by one up to this many, so that a per-second schedule
 * checked weeks late costs no more than a thousand steps; beyond it `skipped` stays at this
 * value.
 */
export const MAX_COUNTED_SKIPS = 1000;

/**
 * How late the tick at `tick` may run under `'skip'` and still run: half the time to the
 * following tick (`following`, undefined when there is none), at most
 * {@link MAX_SKIP_GRACE_MS}. A timer that fires a little late still runs its tick; a tick missed
 * while the process was down, or one so late that the next is nearly due, does not.
 */
export function skipGraceMs(tick: number, following: number | undefined): number {
  if (following === undefined) return MAX_SKIP_GRACE_MS;
  return Math.min(MAX_SKIP_GRACE_MS, Math.floor((following - tick) / 2));
}

/**
 * The ticks of a schedule due at `now` that should become jobs under its catch-up policy, how
 * many due ticks the policy leaves out, and the schedule's next run.
 *
 * Due ticks are `input.nextRunAt` (when it is at or before `now`, even if it is no longer a tick
 * of the cron, as after the cron changed) and the cron's ticks after it up to `now` included.
 * When none is due, `ticks` is empty and `nextRunAt` is `input.nextRunAt` unchanged.
 *
 * Cost: the latest due tick is found with `schedule.previous(now)` and `'all'` walks back from it
 * at most `limit` ticks, so it does not grow with how far in the past `input.nextRunAt` is;
 * counting `skipped` takes at most {@link MAX_COUNTED_SKIPS} more steps.
 */
export function dueTicks(input: DueTicksInput): DueTicks {
  const { schedule, now, catchUp } = input;
  const first = input.nextRunAt;
  if (first > now) return { ticks: [], skipped: 0, nextRunAt: first };

  const nextRunAt = schedule.next(now);
  const previousTick = schedule.previous(now);
  const latest = previousTick !== undefined && previousTick > first ? previousTick : first;

  /** The due tick before the due tick `tick`, or undefined at the first one. */
  const dueBefore = (tick: number): number | undefined => {
    if (tick <= first) return undefined;
    const earlier = schedule.previous(tick - 1);
    return earlier !== undefined && earlier > first ? earlier : first;
  };

  let ticks: number[];
  switch (catchUp) {
    case 'latest':
      ticks = [latest];
      break;
    case 'skip':
      // The tick after the latest due one is the first after now: nextRunAt.
      ticks = now - latest <= skipGraceMs(latest, nextRunAt) ? [latest] : [];
      break;
    case 'all': {
      const oldest = now - (input.catchUpWindowMs ?? DEFAULT_CATCH_UP_WINDOW_MS);
      const limit = input.limit ?? DEFAULT_CATCH_UP_LIMIT;
      ticks = [];
      for (
        let tick: number | undefined = latest;
        tick !== undefined && tick >= oldest && ticks.length < limit;
        tick = dueBefore(tick)
      ) {
        ticks.push(tick);
      }
      ticks.reverse();
      break;
    }
    default:
      throw new TypeError(`Unknown catch-up policy ${String(catchUp)}.`);
  }

  return { ticks, skipped: countSkipped(schedule, first, latest, ticks), nextRunAt };
}

/**
 * The due ticks from `first` to `latest` that are not in `ticks`, counted up to
 * {@link MAX_COUNTED_SKIPS}. `ticks` are the newest due ticks, so the skipped ones are those
 * before `ticks[0]` (or all of them when `ticks` is empty).
 */
function countSkipped(
  schedule: ParsedSchedule,
  first: number,
  latest: number,
  ticks: readonly number[],
): number {
  const end = ticks[0] ?? latest + 1; // count the due ticks before this one
  let count = 0;
  for (
    let tick: number | undefined = first;
    tick !== undefined && tick < end && count < MAX_COUNTED_SKIPS;
    tick = schedule.next(tick)
  ) {
    count++;
  }
  return count;
}
