import { ReseolioValidationError } from '../errors.ts';
import { serialize } from '../serialization/encode.ts';

/** The largest progress value, serialized: 8192 bytes (UTF-8). */
export const MAX_PROGRESS_BYTES = 8192;

/** Nesting deeper than this is refused (progress is a small value, not a document). */
const MAX_PROGRESS_DEPTH = 16;

/**
 * Serializes a progress report with the engine's serializer, after checking that it is JSON
 * data (a finite number, a string, a boolean, null, arrays and plain objects of those): it
 * reaches UIs through events and the HTTP job routes as JSON, and must read back exactly as
 * reported. Everything else is refused with the path to the bad value.
 * @throws ReseolioValidationError `RESEOLIO_INVALID_PROGRESS` for a value that is not JSON
 *   data; `RESEOLIO_PROGRESS_TOO_LARGE` over {@link MAX_PROGRESS_BYTES}
 */
export function encodeProgress(value: unknown): string {
  assertJsonData(value, 'progress', 0);
  const text = serialize(value, 'The progress');
  const size = Buffer.byteLength(text);
  if (size > MAX_PROGRESS_BYTES) {
    throw new ReseolioValidationError(
      `reportProgress() takes at most ${MAX_PROGRESS_BYTES} bytes once serialized; this value ` +
        `is ${size}. Report a number or a few counters, and keep bulky data in the result.`,
      'RESEOLIO_PROGRESS_TOO_LARGE',
    );
  }
  return text;
}

function assertJsonData(value: unknown, path: string, depth: number): void {
  if (depth > MAX_PROGRESS_DEPTH) refuse(path, `nesting deeper than ${MAX_PROGRESS_DEPTH} levels`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(path, String(value));
      return;
    case 'object': {
      if (value === null) return;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          // A hole reads back as undefined, which JSON has not.
          if (!(i in value)) refuse(`${path}[${i}]`, 'an empty array slot');
          assertJsonData(value[i], `${path}[${i}]`, depth + 1);
        }
        return;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        refuse(path, `an instance of ${prototype?.constructor?.name ?? 'a class'}`);
      }
      for (const [key, item] of Object.entries(value)) {
        assertJsonData(item, `${path}.${key}`, depth + 1);
      }
      return;
    }
    default:
      refuse(path, typeof value);
  }
}

function refuse(path: string, what: string): never {
  throw new ReseolioValidationError(
    `reportProgress() takes a finite number or JSON data (strings, finite numbers, booleans, ` +
      `null, arrays and plain objects of those); ${path} is ${what}.`,
    'RESEOLIO_INVALID_PROGRESS',
  );
}
