/**
 * How error messages show a value the user gave. Messages name the bad value so the user can
 * find it, but a message must stay readable and safe to log: a 10 KB idempotency key or a
 * connection string with a password in it must not end up in full in a log line.
 */

/**
 * A short, printable description of `value` for an error message: strings are quoted and
 * escaped (a NUL shows as `\u0000`, an unpaired surrogate as `\ud800`) and cut after `max`
 * characters with their full length appended; numbers, booleans, `null` and `undefined`
 * as written; a `Date` as ISO text; other objects by their kind, never by their contents.
 */
export function describeValue(value: unknown, max = 100): string {
  switch (typeof value) {
    case 'string': {
      if (value.length <= max) return JSON.stringify(value);
      return `${JSON.stringify(value.slice(0, max)).slice(0, -1)}…" (${value.length} characters)`;
    }
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return cut(`${value}n`, max);
    case 'symbol':
      return cut(value.toString(), max);
    case 'function':
      return value.name ? cut(`function ${value.name}`, max) : 'a function';
  }
  if (value === null) return 'null';
  try {
    if (value instanceof Date) {
      return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    }
    if (Array.isArray(value)) return `an array of ${value.length} items`;
    const proto = Object.getPrototypeOf(value);
    if (proto === null || proto === Object.prototype) return 'an object';
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? cut(`a ${name}`, max) : 'an object';
  } catch {
    // A revoked proxy or a hostile getter: the message must still be built.
    return 'an object';
  }
}

/**
 * `url` with credentials masked: the password of `scheme://user:password@host` and the value
 * of `password=` query parameters become `***`. For messages that echo a connection string.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^((?:[a-z][a-z0-9+.-]*:)?\/\/[^/?#@:]*):[^/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
