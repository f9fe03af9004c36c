import { Cron } from 'croner';
import { describeValue } from '../describe-value.ts';
import { InvalidScheduleError } from '../errors.ts';

/**
 * Cron expressions for schedules: parsing (by croner) and the ticks of an expression in a time
 * zone.
 *
 * Accepted forms:
 * - 5 fields, minute first: `minute hour day-of-month month day-of-week` (`*\/15 * * * *`);
 * - 6 fields, seconds first: `second minute hour day-of-month month day-of-week`
 *   (`0 *\/15 * * * *`);
 * - the nicknames `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight` and
 *   `@hourly` (any case), which croner reads as the usual 5-field expressions.
 *
 * Fields take what croner takes: lists, ranges, steps, month and day names, `L`, `W`, `#`, and
 * `?` (read as `*`). When both day-of-month and day-of-week are restricted, a day matching
 * either one fires (Vixie cron's rule). Refused: 7 fields (years), `@reboot`, anything else.
 *
 * Time zones (binding semantics): every tick is a wall-clock time in the zone, and it runs once.
 * - A wall time that does not exist (the hour skipped when clocks go forward) runs at the instant
 *   of the jump: in Europe/Berlin on 2026-03-29, `30 2 * * *` runs at 01:00:00Z (03:00 CEST).
 *   Several such ticks (`*\/30 * * * *` at 02:00 and 02:30) fall on that instant and run once.
 * - A wall time that occurs twice (the hour repeated when clocks go back) runs at its first
 *   occurrence only: in Europe/Berlin on 2026-10-25, `30 2 * * *` runs at 00:30:00Z (02:30 CEST),
 *   not again at 01:30:00Z; `0 * * * *` runs at 00:00Z (02:00 CEST) and next at 02:00Z
 *   (03:00 CET), the repeated 02:00 CET does not run.
 *
 * croner's own zone handling differs (it skips the missing hour and repeats the doubled one for
 * expressions with a wildcard or step in the time fields), so croner only matches patterns here,
 * on a timeline of wall-clock times with no zone, and this module maps wall times to instants.
 *
 * Ticks are whole seconds (epoch ms with ms = 0).
 */

/** A cron expression read in a time zone: its ticks as epoch ms. */
export interface ParsedSchedule {
  /** The expression as given, trimmed. */
  readonly cron: string;
  /**
   * The IANA zone as given, with its letter case corrected (`europe/berlin` is
   * `Europe/Berlin`); aliases stay as given (`Etc/UTC` is not turned into `UTC`).
   */
  readonly timezone: string;
  /** The first tick strictly after `after` (epoch ms), or undefined when the cron never fires again. */
  next(after: number): number | undefined;
  /**
   * The latest tick at or before `atOrBefore` (epoch ms), or undefined when there is none
   * (croner searches back to year 0). Cost does not depend on how frequent the ticks are.
   */
  previous(atOrBefore: number): number | undefined;
}

const NICKNAMES = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
]);

const FORMS =
  'Use 5 fields, minute first (minute hour day-of-month month day-of-week, e.g. "*/15 * * * *"), ' +
  '6 fields with seconds first (e.g. "30 */15 * * * *"), or one of the nicknames ' +
  '@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.';

/** Up to 200 characters of a value the user gave, for a message. */
function shown(value: unknown): string {
  return describeValue(value, 200);
}

/**
 * Reads `cron` in `timezone` (an IANA zone; the caller applies the `'UTC'` default). Throws
 * {@link InvalidScheduleError} for a value that is not a string, an expression of another form
 * than 5 or 6 fields or a nickname, an expression croner refuses, an unknown zone, or an
 * expression that never fires (`0 0 30 2 *`).
 */
export function parseSchedule(cron: unknown, timezone: unknown): ParsedSchedule {
  const zone = checkTimeZone(timezone);
  if (typeof cron !== 'string') {
    throw new InvalidScheduleError(
      `A schedule's cron expression must be a string, got ${shown(cron)}. ${FORMS}`,
    );
  }
  const text = cron.trim();
  if (text === '') {
    throw new InvalidScheduleError(`A schedule's cron expression is empty. ${FORMS}`);
  }
  if (text.startsWith('@')) {
    if (!NICKNAMES.has(text.toLowerCase())) {
      throw new InvalidScheduleError(
        `The cron expression ${shown(cron)} is not a supported nickname ` +
          `(@reboot is not, a schedule runs by the clock). ${FORMS}`,
      );
    }
  } else {
    const fields = text.split(/\s+/).length;
    if (fields !== 5 && fields !== 6) {
      throw new InvalidScheduleError(
        `The cron expression ${shown(cron)} has ${fields} field${fields === 1 ? '' : 's'}` +
          `${fields === 7 ? ' (years are not supported)' : ''}. ${FORMS}`,
      );
    }
  }
  let pattern: Cron;
  try {
    // utcOffset 0: croner matches wall-clock fields on a zone-free timeline (and is ~15 times
    // faster than with timezone 'UTC'); the zone is applied by WallClock.
    pattern = new Cron(text, { utcOffset: 0, mode: '5-or-6-parts', paused: true });
  } catch (error) {
    throw new InvalidScheduleError(
      `The cron expression ${shown(cron)} cannot be read: ` +
        `${error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error)}. ${FORMS}`,
      { cause: error },
    );
  }
  const schedule = new ZonedCron(text, zone, pattern);
  // Years are wildcards, so an expression that fires at all fires within any 28 years.
  if (schedule.next(0) === undefined) {
    throw new InvalidScheduleError(
      `The cron expression ${shown(cron)} never fires (no date matches it, like "0 0 30 2 *" ` +
        'for February 30). Check the day-of-month and month fields.',
    );
  }
  return schedule;
}

/** `timezone` when it is a valid IANA zone name, with its letter case corrected. */
function checkTimeZone(timezone: unknown): string {
  const example = 'Use an IANA time zone name such as "Europe/Berlin" or "UTC".';
  if (typeof timezone !== 'string') {
    throw new InvalidScheduleError(
      `A schedule's time zone must be a string, got ${shown(timezone)}. ${example}`,
    );
  }
  // Intl also accepts UTC offsets ("+01:00"); a schedule's zone is a name, so its offset can
  // change with daylight saving time.
  if (!/^[A-Za-z]/.test(timezone)) {
    throw new InvalidScheduleError(
      `The time zone ${shown(timezone)} is not an IANA time zone name. ${example}`,
    );
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch (error) {
    throw new InvalidScheduleError(
      `The time zone ${shown(timezone)} is unknown to this Node.js. ${example}`,
      { cause: error },
    );
  }
  return resolved.toLowerCase() === timezone.toLowerCase() ? resolved : timezone;
}

const DAY_MS = 86_400_000;

/** The offset of a zone (wall clock minus UTC, in ms) at any instant, and its inverse. */
class WallClock {
  readonly #format: Intl.DateTimeFormat;

  constructor(timeZone: string) {
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Wall clock minus UTC at `instant`, in ms (whole seconds). */
  offsetAt(instant: number): number {
    const second = Math.floor(instant / 1000) * 1000;
    const f = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
    for (const part of this.#format.formatToParts(second)) {
      if (part.type in f) f[part.type as keyof typeof f] = Number(part.value);
    }
    const wall = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
    // Date.UTC maps years 0-99 to 1900-1999; instants here are after 1970.
    return wall - second;
  }

  /** The wall-clock time at `instant`, as epoch ms of a zone-free timeline. */
  wallAt(instant: number): number {
    return instant + this.offsetAt(instant);
  }

  /**
   * The wall time at which a repeated hour ends (its first wall time that occurs once), given
   * `first`, an instant in its first occurrence, and `second`, one in its second occurrence.
   */
  repeatEnd(first: number, second: number): number {
    const before = this.offsetAt(first);
    let lo = Math.floor(first / 1000) * 1000; // offset `before`
    let hi = Math.floor(second / 1000) * 1000; // the later offset
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (this.offsetAt(mid) === before) lo = mid;
      else hi = mid;
    }
    return hi + before; // hi is the instant of the change
  }

  /**
   * The instant of wall time `wall`: its first occurrence when it occurs twice, the instant of
   * the jump when it is skipped. Assumes at most one offset change within a day of `wall`.
   */
  instantOf(wall: number): number {
    const before = this.offsetAt(wall - DAY_MS);
    const after = this.offsetAt(wall + DAY_MS);
    const early = wall - before;
    const late = wall - after;
    const earlyFits = this.wallAt(early) === wall;
    const lateFits = this.wallAt(late) === wall;
    if (earlyFits && lateFits) return Math.min(early, late);
    if (earlyFits) return early;
    if (lateFits) return late;
    if (after <= before) return early; // not a gap: more than one change nearby
    // A gap: the jump is in (late, early], where the offset turns from `before` to `after`.
    let lo = late; // offset `before`
    let hi = early; // offset `after`
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (this.offsetAt(mid) === before) lo = mid;
      else hi = mid;
    }
    return hi;
  }
}

class ZonedCron implements ParsedSchedule {
  readonly cron: string;
  readonly timezone: string;
  readonly #pattern: Cron;
  readonly #clock: WallClock;

  constructor(cron: string, timezone: string, pattern: Cron) {
    this.cron = cron;
    this.timezone = timezone;
    this.#pattern = pattern;
    this.#clock = new WallClock(timezone);
  }

  next(after: number): number | undefined {
    // Wall times map to instants in order, so the first tick is the first wall tick after
    // wall(after). Except in the second occurrence of a repeated hour: the rest of that hour maps
    // to its first occurrence, before `after`, so search from the end of the hour.
    let from = this.#clock.wallAt(after);
    const first = this.#clock.instantOf(from);
    if (first < Math.floor(after / 1000) * 1000) {
      from = this.#clock.repeatEnd(first, after) - 1;
    }
    const wall = this.#pattern.nextRun(new Date(from))?.getTime();
    return wall === undefined ? undefined : this.#clock.instantOf(wall);
  }

  previous(atOrBefore: number): number | undefined {
    // Wall times map to instants in order, so the latest tick is the latest wall tick up to
    // wall(atOrBefore). Except in the second occurrence of a repeated hour: the rest of that hour
    // maps to its first occurrence, before `atOrBefore`, so search up to the end of the hour.
    let upTo = this.#clock.wallAt(atOrBefore);
    const first = this.#clock.instantOf(upTo);
    if (first < Math.floor(atOrBefore / 1000) * 1000) {
      upTo = this.#clock.repeatEnd(first, atOrBefore) - 1000;
    }
    // previousRuns is strict but includes a run earlier in the same second: +1 makes it "<=".
    const wall = this.#pattern.previousRuns(1, new Date(upTo + 1))[0]?.getTime();
    return wall === undefined ? undefined : this.#clock.instantOf(wall);
  }
}
