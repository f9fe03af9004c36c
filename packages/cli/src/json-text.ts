/**
 * JSON for `--json`: dates as ISO strings (their own `toJSON`), and the values a job's
 * arguments or result may hold that JSON cannot: a bigint as its decimal string, a Map as an
 * object of its entries (keys as strings), a Set as an array, undefined inside an array as null.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, replace, 2);
}

function replace(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) {
    return Object.fromEntries(Array.from(value, ([key, entry]) => [String(key), entry]));
  }
  if (value instanceof Set) return Array.from(value);
  return value;
}
