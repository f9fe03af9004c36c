/** `3 min ago`, `in 2 h`, `just now`. */
export function relativeTime(iso: string, now = Date.now()): string {
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff);
  if (abs < 5000) return 'just now';
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  const [size, unit] = units.find(([size]) => abs >= size) ?? [1000, 's'];
  const value = Math.floor(abs / size);
  return diff < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

/** `2026-12-03 12:05:36` in the viewer's zone. */
export function absoluteTime(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(
    date.getHours(),
  )}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** `1.2 s`, `340 ms`, `3 min 5 s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** JSON for display, two-space indented; `undefined` shows as nothing. */
export function pretty(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

/** `1,234`. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The last 12 characters of an id, for tight tables (the full id is in the title). Job ids are
 * UUIDv7, whose first characters are the time: jobs made together share them.
 */
export function shortId(id: string): string {
  return id.length > 13 ? `…${id.slice(-12)}` : id;
}
