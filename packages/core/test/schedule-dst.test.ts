/**
 * Schedules across daylight saving time changes: every tick is a wall-clock time in the zone and
 * runs once. A skipped wall time runs at the instant of the jump; a repeated one at its first
 * occurrence only. Exact fire times (UTC), from calling next() repeatedly.
 */

import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../src/schedules/cron.ts';

/** Every tick after `from` up to `to` included, by next(); and the same list found by previous(). */
function fireTimes(cron: string, zone: string, from: string, to: string): string[] {
  const schedule = parseSchedule(cron, zone);
  const end = Date.parse(to);
  const forward: number[] = [];
  for (let t = schedule.next(Date.parse(from)); t !== undefined && t <= end; t = schedule.next(t)) {
    forward.push(t);
  }
  const backward: number[] = [];
  for (
    let t = schedule.previous(end);
    t !== undefined && t > Date.parse(from);
    t = schedule.previous(t - 1)
  ) {
    backward.unshift(t);
  }
  expect(backward).toEqual(forward);
  return forward.map((t) => new Date(t).toISOString());
}

describe('Europe/Berlin, spring 2026-03-29 (02:00 CET jumps to 03:00 CEST at 01:00Z)', () => {
  it('30 2 * * * runs at the jump', () => {
    expect(
      fireTimes('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z'),
    ).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('0 * * * * runs 02:00 and 03:00 once, at the jump', () => {
    expect(
      fireTimes('0 * * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z', '2026-03-29T03:00:00Z'),
    ).toEqual([
      '2026-03-29T00:00:00.000Z', // 01:00 CET
      '2026-03-29T01:00:00.000Z', // 02:00 (skipped) and 03:00 CEST
      '2026-03-29T02:00:00.000Z', // 04:00 CEST
      '2026-03-29T03:00:00.000Z',
    ]);
  });

  it('*/30 * * * * runs 02:00, 02:30 and 03:00 once, at the jump', () => {
    expect(
      fireTimes('*/30 * * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z', '2026-03-29T02:30:00Z'),
    ).toEqual([
      '2026-03-28T23:30:00.000Z',
      '2026-03-29T00:00:00.000Z', // 01:00 CET
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:00:00.000Z', // 02:00, 02:30 (skipped) and 03:00 CEST
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
      '2026-03-29T02:00:00.000Z',
      '2026-03-29T02:30:00.000Z',
    ]);
  });
});

describe('Europe/Berlin, autumn 2026-10-25 (03:00 CEST goes back to 02:00 CET at 01:00Z)', () => {
  it('30 2 * * * runs at the first 02:30 only', () => {
    expect(
      fireTimes('30 2 * * *', 'Europe/Berlin', '2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z'),
    ).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST); not 01:30Z (02:30 CET)
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z',
    ]);
  });

  it('0 * * * * does not run the repeated 02:00', () => {
    expect(
      fireTimes('0 * * * *', 'Europe/Berlin', '2026-10-24T22:30:00Z', '2026-10-25T04:00:00Z'),
    ).toEqual([
      '2026-10-24T23:00:00.000Z', // 01:00 CEST
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T02:00:00.000Z', // 03:00 CET; 02:00 CET (01:00Z) is a repeat
      '2026-10-25T03:00:00.000Z',
      '2026-10-25T04:00:00.000Z',
    ]);
  });

  it('*/30 * * * * does not run the repeated 02:00 and 02:30', () => {
    expect(
      fireTimes('*/30 * * * *', 'Europe/Berlin', '2026-10-24T22:30:00Z', '2026-10-25T03:00:00Z'),
    ).toEqual([
      '2026-10-24T23:00:00.000Z',
      '2026-10-24T23:30:00.000Z',
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T02:00:00.000Z', // 03:00 CET
      '2026-10-25T02:30:00.000Z',
      '2026-10-25T03:00:00.000Z',
    ]);
  });

  it('a per-second cron skips the whole repeated hour, in both directions', () => {
    const schedule = parseSchedule('* * * * * *', 'Europe/Berlin');
    const lastCest = Date.parse('2026-10-25T00:59:59Z'); // 02:59:59 CEST
    expect(new Date(schedule.next(lastCest) ?? 0).toISOString()).toBe('2026-10-25T02:00:00.000Z');
    // Inside the repeated hour (02:30 CET), the latest tick is the last of the first 02:xx.
    const inRepeat = Date.parse('2026-10-25T01:30:00Z');
    expect(schedule.previous(inRepeat)).toBe(lastCest);
    expect(schedule.next(inRepeat)).toBe(Date.parse('2026-10-25T02:00:00Z'));
  });
});

describe('America/New_York, spring 2026-03-08 (02:00 EST jumps to 03:00 EDT at 07:00Z)', () => {
  it('30 2 * * * runs at the jump', () => {
    expect(
      fireTimes('30 2 * * *', 'America/New_York', '2026-03-06T12:00:00Z', '2026-03-10T12:00:00Z'),
    ).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 02:30 does not exist: 03:00 EDT
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  it('0 * * * * runs 02:00 and 03:00 once, at the jump', () => {
    expect(
      fireTimes('0 * * * *', 'America/New_York', '2026-03-08T05:00:00Z', '2026-03-08T09:00:00Z'),
    ).toEqual([
      '2026-03-08T06:00:00.000Z', // 01:00 EST
      '2026-03-08T07:00:00.000Z', // 02:00 (skipped) and 03:00 EDT
      '2026-03-08T08:00:00.000Z',
      '2026-03-08T09:00:00.000Z',
    ]);
  });

  it('*/30 * * * * runs 02:00, 02:30 and 03:00 once, at the jump', () => {
    expect(
      fireTimes('*/30 * * * *', 'America/New_York', '2026-03-08T05:00:00Z', '2026-03-08T08:30:00Z'),
    ).toEqual([
      '2026-03-08T05:30:00.000Z',
      '2026-03-08T06:00:00.000Z', // 01:00 EST
      '2026-03-08T06:30:00.000Z', // 01:30 EST
      '2026-03-08T07:00:00.000Z', // 02:00, 02:30 (skipped) and 03:00 EDT
      '2026-03-08T07:30:00.000Z',
      '2026-03-08T08:00:00.000Z',
      '2026-03-08T08:30:00.000Z',
    ]);
  });
});

describe('America/New_York, autumn 2026-11-01 (02:00 EDT goes back to 01:00 EST at 06:00Z)', () => {
  it('30 2 * * * is not in the repeated hour: one run a day, as usual', () => {
    expect(
      fireTimes('30 2 * * *', 'America/New_York', '2026-10-30T12:00:00Z', '2026-11-03T12:00:00Z'),
    ).toEqual([
      '2026-10-31T06:30:00.000Z', // 02:30 EDT
      '2026-11-01T07:30:00.000Z', // 02:30 EST
      '2026-11-02T07:30:00.000Z',
      '2026-11-03T07:30:00.000Z',
    ]);
  });

  it('30 1 * * * runs at the first 01:30 only', () => {
    expect(
      fireTimes('30 1 * * *', 'America/New_York', '2026-10-30T12:00:00Z', '2026-11-02T12:00:00Z'),
    ).toEqual([
      '2026-10-31T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T05:30:00.000Z', // the first 01:30 (EDT); not 06:30Z (01:30 EST)
      '2026-11-02T06:30:00.000Z', // 01:30 EST
    ]);
  });

  it('0 * * * * does not run the repeated 01:00', () => {
    expect(
      fireTimes('0 * * * *', 'America/New_York', '2026-11-01T03:30:00Z', '2026-11-01T08:00:00Z'),
    ).toEqual([
      '2026-11-01T04:00:00.000Z', // 00:00 EDT
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T07:00:00.000Z', // 02:00 EST; 01:00 EST (06:00Z) is a repeat
      '2026-11-01T08:00:00.000Z',
    ]);
  });

  it('*/30 * * * * does not run the repeated 01:00 and 01:30', () => {
    expect(
      fireTimes('*/30 * * * *', 'America/New_York', '2026-11-01T03:30:00Z', '2026-11-01T08:00:00Z'),
    ).toEqual([
      '2026-11-01T04:00:00.000Z',
      '2026-11-01T04:30:00.000Z',
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T07:00:00.000Z', // 02:00 EST
      '2026-11-01T07:30:00.000Z',
      '2026-11-01T08:00:00.000Z',
    ]);
  });
});

describe('next and previous agree around every change', () => {
  it('previous(t) <= t < next(t), with no tick between them', () => {
    const changes: [string, string][] = [
      ['Europe/Berlin', '2026-03-29T01:00:00Z'],
      ['Europe/Berlin', '2026-10-25T01:00:00Z'],
      ['America/New_York', '2026-03-08T07:00:00Z'],
      ['America/New_York', '2026-11-01T06:00:00Z'],
    ];
    for (const [zone, change] of changes) {
      const schedule = parseSchedule('*/20 * * * * *', zone);
      const at = Date.parse(change);
      for (let t = at - 7_200_000; t <= at + 7_200_000; t += 13_001) {
        const previous = schedule.previous(t) ?? Number.NaN;
        const next = schedule.next(t) ?? Number.NaN;
        expect(previous).toBeLessThanOrEqual(t);
        expect(next).toBeGreaterThan(t);
        expect(schedule.next(previous)).toBe(next);
        expect(schedule.previous(next - 1)).toBe(previous);
      }
    }
  });
});
