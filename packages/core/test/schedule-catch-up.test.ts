/** Schedules: which due ticks become jobs under each catch-up policy. */

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CATCH_UP_LIMIT,
  dueTicks,
  MAX_COUNTED_SKIPS,
  MAX_SKIP_GRACE_MS,
  skipGraceMs,
} from '../src/schedules/catch-up.ts';
import { parseSchedule } from '../src/schedules/cron.ts';

const MINUTE = 60_000;
const perMinute = parseSchedule('* * * * *', 'UTC');
const T0 = Date.parse('2026-05-01T12:00:00Z');
/** The 10th missed tick is due: ticks T0 ... T0 + 9 min, checked 5 s after the last. */
const downtime = { schedule: perMinute, nextRunAt: T0, now: T0 + 9 * MINUTE + 5_000 };
const minutes = (...n: number[]): number[] => n.map((i) => T0 + i * MINUTE);

describe('dueTicks', () => {
  it('after downtime of 10 ticks: skip runs none, latest the 10th, all every one', () => {
    expect(dueTicks({ ...downtime, catchUp: 'skip', now: T0 + 9 * MINUTE + 20_000 })).toEqual({
      ticks: [],
      skipped: 10,
      nextRunAt: T0 + 10 * MINUTE,
    });
    expect(dueTicks({ ...downtime, catchUp: 'latest' })).toEqual({
      ticks: minutes(9),
      skipped: 9,
      nextRunAt: T0 + 10 * MINUTE,
    });
    expect(dueTicks({ ...downtime, catchUp: 'all' })).toEqual({
      ticks: minutes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
      skipped: 0,
      nextRunAt: T0 + 10 * MINUTE,
    });
  });

  it("'skip' runs a tick that is a little late, up to the grace", () => {
    // 5 s late: on time.
    expect(dueTicks({ ...downtime, catchUp: 'skip' })).toEqual({
      ticks: minutes(9),
      skipped: 9,
      nextRunAt: T0 + 10 * MINUTE,
    });
    const one = { schedule: perMinute, nextRunAt: T0, catchUp: 'skip' as const };
    expect(dueTicks({ ...one, now: T0 }).ticks).toEqual([T0]);
    expect(dueTicks({ ...one, now: T0 + 10_000 }).ticks).toEqual([T0]);
    expect(dueTicks({ ...one, now: T0 + 10_001 })).toEqual({
      ticks: [],
      skipped: 1,
      nextRunAt: T0 + MINUTE,
    });
    // Every 10 s: the grace is half the interval.
    const every10s = parseSchedule('*/10 * * * * *', 'UTC');
    expect(dueTicks({ ...one, schedule: every10s, now: T0 + 5_000 }).ticks).toEqual([T0]);
    expect(dueTicks({ ...one, schedule: every10s, now: T0 + 5_001 }).ticks).toEqual([]);
  });

  it('skipGraceMs is half the interval, at most 10 s', () => {
    expect(MAX_SKIP_GRACE_MS).toBe(10_000);
    expect(skipGraceMs(T0, T0 + MINUTE)).toBe(10_000);
    expect(skipGraceMs(T0, T0 + 4_000)).toBe(2_000);
    expect(skipGraceMs(T0, T0 + 1_000)).toBe(500);
    expect(skipGraceMs(T0, undefined)).toBe(10_000);
  });

  it("'all' runs only ticks within the window", () => {
    expect(dueTicks({ ...downtime, catchUp: 'all', catchUpWindowMs: 3 * MINUTE })).toEqual({
      ticks: minutes(7, 8, 9), // now - 3 min is T0 + 6 min 5 s
      skipped: 7,
      nextRunAt: T0 + 10 * MINUTE,
    });
    expect(dueTicks({ ...downtime, catchUp: 'all', catchUpWindowMs: 1_000 })).toEqual({
      ticks: [],
      skipped: 10,
      nextRunAt: T0 + 10 * MINUTE,
    });
  });

  it("'all' runs at most `limit` ticks, the newest", () => {
    expect(dueTicks({ ...downtime, catchUp: 'all', limit: 4 })).toEqual({
      ticks: minutes(6, 7, 8, 9),
      skipped: 6,
      nextRunAt: T0 + 10 * MINUTE,
    });
    const long = {
      schedule: perMinute,
      nextRunAt: T0,
      now: T0 + 500 * MINUTE,
      catchUp: 'all' as const,
    };
    const due = dueTicks(long);
    expect(due.ticks).toHaveLength(DEFAULT_CATCH_UP_LIMIT);
    expect(due.ticks[0]).toBe(T0 + 401 * MINUTE);
    expect(due.ticks.at(-1)).toBe(T0 + 500 * MINUTE);
    expect(due.skipped).toBe(401);
  });

  it('counts nextRunAt as due even when it is no longer a tick of the cron', () => {
    const hourly = parseSchedule('0 * * * *', 'UTC');
    const odd = T0 + 17 * MINUTE + 3_000; // stored under an older cron
    const input = { schedule: hourly, nextRunAt: odd, now: T0 + 90 * MINUTE };
    expect(dueTicks({ ...input, catchUp: 'all' })).toEqual({
      ticks: [odd, T0 + 60 * MINUTE],
      skipped: 0,
      nextRunAt: T0 + 120 * MINUTE,
    });
    expect(dueTicks({ ...input, catchUp: 'latest' }).ticks).toEqual([T0 + 60 * MINUTE]);
    expect(dueTicks({ ...input, catchUp: 'latest', now: T0 + 30 * MINUTE })).toEqual({
      ticks: [odd],
      skipped: 0,
      nextRunAt: T0 + 60 * MINUTE,
    });
  });

  it('nothing due: no ticks, nextRunAt unchanged', () => {
    for (const catchUp of ['skip', 'latest', 'all'] as const) {
      expect(dueTicks({ schedule: perMinute, nextRunAt: T0, now: T0 - 1, catchUp })).toEqual({
        ticks: [],
        skipped: 0,
        nextRunAt: T0,
      });
    }
  });

  it('a per-second cron 30 days late takes a bounded number of steps', () => {
    const perSecond = parseSchedule('* * * * * *', 'Europe/Berlin');
    let calls = 0;
    const counted = {
      ...perSecond,
      next: (after: number) => {
        calls++;
        return perSecond.next(after);
      },
      previous: (at: number) => {
        calls++;
        return perSecond.previous(at);
      },
    };
    const now = T0 + 123;
    const input = { schedule: counted, nextRunAt: T0 - 30 * 86_400_000, now };
    for (const catchUp of ['skip', 'latest', 'all'] as const) {
      calls = 0;
      const due = dueTicks({ ...input, catchUp });
      expect(due.nextRunAt).toBe(T0 + 1_000);
      expect(due.skipped).toBe(MAX_COUNTED_SKIPS); // 2,592,000 skipped, counted up to the cap
      expect(calls).toBeLessThan(MAX_COUNTED_SKIPS + DEFAULT_CATCH_UP_LIMIT + 10);
      if (catchUp === 'all') {
        expect(due.ticks).toHaveLength(DEFAULT_CATCH_UP_LIMIT);
        expect(due.ticks.at(-1)).toBe(T0);
        expect(due.ticks[0]).toBe(T0 - 99_000);
      } else {
        expect(due.ticks).toEqual([T0]);
      }
    }
  });
});
