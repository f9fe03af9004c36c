import { InvalidArgumentError } from 'commander';

/** A time for people: ISO 8601 in UTC to the second (`2026-12-03T09:41:07Z`), or `-`. */
export function formatTime(date: Date | null | undefined): string {
  if (date === null || date === undefined) return '-';
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** A duration for people: `850ms`, `42s`, `5m`, `5m 03s`, `2h 07m`, `3d 04h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${part(seconds % 60, 's')}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${part(minutes % 60, 'm')}`;
  return `${Math.floor(hours / 24)}d${part(hours % 24, 'h')}`;
}

/** The smaller unit of a duration, two digits; nothing when it is 0. */
function part(n: number, unit: string): string {
  return n === 0 ? '' : ` ${String(n).padStart(2, '0')}${unit}`;
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `90s`, `5m`, `2h` or a bare number of milliseconds (an option value). */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) {
    throw new InvalidArgumentError('Use a duration such as 90s, 5m or 2h (or milliseconds).');
  }
  return Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 'ms']!;
}

/** An option parser for an integer from `min` to `max`. */
export function integerFrom(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`Use an integer from ${min} to ${max}.`);
    }
    return value;
  };
}
