/** Schedules: cron expressions and time zones are read by `parseSchedule`, or refused with a typed error. */

import { describe, expect, it } from 'vitest';
import { InvalidScheduleError, ReseolioValidationError } from '../src/index.ts';
import { type ParsedSchedule, parseSchedule } from '../src/schedules/cron.ts';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/** The first `n` ticks after `start`. */
function ticks(schedule: ParsedSchedule, start: string, n: number): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let t: number | undefined = at(start);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = schedule.next(t);
    out.push(iso(t));
  }
  return out;
}

/** The error `fn` throws. */
function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, got none');
}

function expectInvalid(error: Error, ...parts: string[]): void {
  expect(error).toBeInstanceOf(InvalidScheduleError);
  expect(error).toBeInstanceOf(ReseolioValidationError);
  expect(error).toMatchObject({ code: 'RESEOLIO_INVALID_SCHEDULE', name: 'InvalidScheduleError' });
  for (const part of parts) expect(error.message).toContain(part);
}

describe('parseSchedule', () => {
  it('reads 5 fields, minute first', () => {
    const schedule = parseSchedule('  */15 * * * *  ', 'UTC');
    expect(schedule.cron).toBe('*/15 * * * *');
    expect(schedule.timezone).toBe('UTC');
    expect(ticks(schedule, '2026-01-01T00:07:00.123Z', 3)).toEqual([
      '2026-01-01T00:15:00.000Z',
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T00:45:00.000Z',
    ]);
  });

  it('reads 6 fields, seconds first', () => {
    const schedule = parseSchedule('*/20 5 * * * *', 'UTC');
    expect(ticks(schedule, '2026-01-01T00:05:30Z', 3)).toEqual([
      '2026-01-01T00:05:40.000Z',
      '2026-01-01T01:05:00.000Z',
      '2026-01-01T01:05:20.000Z',
    ]);
  });

  it('next is strictly after, previous at or before, both whole seconds', () => {
    const schedule = parseSchedule('* * * * * *', 'UTC');
    expect(iso(schedule.next(at('2026-01-01T00:00:00Z')))).toBe('2026-01-01T00:00:01.000Z');
    expect(iso(schedule.next(at('2026-01-01T00:00:00.999Z')))).toBe('2026-01-01T00:00:01.000Z');
    expect(iso(schedule.previous(at('2026-01-01T00:00:00Z')))).toBe('2026-01-01T00:00:00.000Z');
    expect(iso(schedule.previous(at('2026-01-01T00:00:00.999Z')))).toBe('2026-01-01T00:00:00.000Z');
  });

  it('previous finds a rare tick far back', () => {
    const schedule = parseSchedule('0 12 29 2 *', 'Europe/Berlin');
    expect(iso(schedule.previous(at('2027-06-01T00:00:00Z')))).toBe('2024-02-29T11:00:00.000Z');
    expect(iso(schedule.next(at('2024-02-29T11:00:00Z')))).toBe('2028-02-29T11:00:00.000Z');
  });

  it('reads ticks in the zone', () => {
    expect(
      ticks(parseSchedule('0 9 * * MON-FRI', 'America/New_York'), '2026-01-02T00:00:00Z', 2),
    ).toEqual(['2026-01-02T14:00:00.000Z', '2026-01-05T14:00:00.000Z']);
    expect(ticks(parseSchedule('0 9 1 7 *', 'Europe/Berlin'), '2026-01-01T00:00:00Z', 1)).toEqual([
      '2026-07-01T07:00:00.000Z',
    ]);
  });

  it('accepts the nicknames croner knows, in any case', () => {
    const cases: [string, string][] = [
      ['@yearly', '2027-01-01T00:00:00.000Z'],
      ['@annually', '2027-01-01T00:00:00.000Z'],
      ['@monthly', '2026-04-01T00:00:00.000Z'],
      ['@weekly', '2026-03-15T00:00:00.000Z'], // 2026-03-15 is a Sunday
      ['@daily', '2026-03-11T00:00:00.000Z'],
      ['@midnight', '2026-03-11T00:00:00.000Z'],
      ['@hourly', '2026-03-10T13:00:00.000Z'],
      ['@DAILY', '2026-03-11T00:00:00.000Z'],
    ];
    for (const [cron, first] of cases) {
      expect(ticks(parseSchedule(cron, 'UTC'), '2026-03-10T12:34:56Z', 1)).toEqual([first]);
    }
  });

  it("corrects the zone name's case and keeps aliases", () => {
    expect(parseSchedule('* * * * *', 'europe/berlin').timezone).toBe('Europe/Berlin');
    expect(parseSchedule('* * * * *', 'Etc/UTC').timezone).toBe('Etc/UTC');
  });

  it('refuses other forms with InvalidScheduleError, naming the accepted ones', () => {
    const forms = ['5 fields', '6 fields', '@daily'];
    const bad: [unknown, string][] = [
      ['', 'empty'],
      ['   ', 'empty'],
      ['* * * *', '4 fields'],
      ['0 0 0 1 1 * 2026', '7 fields (years are not supported)'],
      ['* * * * * * * *', '8 fields'],
      ['@reboot', '@reboot is not'],
      ['@every 5m', 'not a supported nickname'],
      ['61 * * * *', 'cannot be read'],
      ['* * * * foo', 'cannot be read'],
      ['*/0 * * * *', 'cannot be read'],
      [42, 'must be a string, got 42'],
      [null, 'got null'],
      [undefined, 'got undefined'],
      [{ cron: '* * * * *' }, 'got an object'],
    ];
    for (const [cron, part] of bad)
      expectInvalid(
        errorOf(() => parseSchedule(cron, 'UTC')),
        part,
        ...forms,
      );
  });

  it('shows at most 200 characters of a long expression', () => {
    const long = `${'1,'.repeat(500)}1 * * *`; // 4 fields
    const error = errorOf(() => parseSchedule(long, 'UTC'));
    expectInvalid(error, '(1007 characters)', '4 fields');
    expect(error.message.length).toBeLessThan(800);
  });

  it('refuses an unknown zone, an offset and a non-string, naming the zone and an example', () => {
    for (const zone of ['Mars/Olympus_Mons', 'Europe/Berlinn', '+01:00', 'UTC+1', '', ' UTC']) {
      expectInvalid(
        errorOf(() => parseSchedule('* * * * *', zone)),
        JSON.stringify(zone),
        'Europe/Berlin',
      );
    }
    for (const zone of [undefined, 1, null]) {
      expectInvalid(
        errorOf(() => parseSchedule('* * * * *', zone)),
        `got ${String(zone)}`,
        'Europe/Berlin',
      );
    }
  });

  it('refuses a cron that never fires', () => {
    for (const cron of ['0 0 30 2 *', '0 0 31 4 *', '0 0 0 31 11 *']) {
      expectInvalid(
        errorOf(() => parseSchedule(cron, 'UTC')),
        'never fires',
      );
    }
    // Fires only on February 29: rare, but it fires.
    expect(parseSchedule('0 0 29 2 *', 'UTC').next(at('2026-01-01T00:00:00Z'))).toBe(
      at('2028-02-29T00:00:00Z'),
    );
  });
});
