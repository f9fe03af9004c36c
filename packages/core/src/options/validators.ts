import { describeValue } from '../describe-value.ts';
import { ReseolioValidationError } from '../errors.ts';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from './bounds.ts';

/**
 * The checks every option parser is built from: plain objects, known keys, integers in a range,
 * storable text, and the one error shape (where, which key, the value given, what fits).
 */

/** An unpaired UTF-16 surrogate: half of a pair, which is not a Unicode character. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `text` would not be stored as given by every adapter, or `undefined` when it would.
 * PostgreSQL refuses NUL in text and turns unpaired surrogates into U+FFFD; SQLite keeps both.
 */
export function unstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) {
    return 'contains a NUL character (\\u0000), which PostgreSQL cannot store in text';
  }
  if (LONE_SURROGATE.test(text)) {
    return (
      'contains an unpaired surrogate (half of a UTF-16 pair, not a Unicode character), ' +
      'which PostgreSQL would store as U+FFFD'
    );
  }
  return undefined;
}

/** An object literal (or `Object.create(null)`): no class instance, array or boxed value. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An integer from `min` to `max`, both included. */
export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * An optional integer option: `undefined` gives `fallback`. The range is inclusive; `unit`
 * follows it in the message.
 */
export function integer(
  options: Record<string, unknown> | object,
  key: string,
  fallback: number,
  min: number,
  max: number,
  where = 'Reseolio options',
  unit = key.endsWith('Ms') ? ' milliseconds' : '',
): number {
  const value = (options as Record<string, unknown>)[key];
  if (value === undefined) return fallback;
  if (!isIntegerIn(value, min, max)) {
    throw invalid(key, value, `an integer from ${min} to ${max}${unit}`, where);
  }
  return value;
}

/** The error for one bad option: where, which key, the value given (shortened), what fits. */
export function invalid(key: string, value: unknown, expected: string, where = 'Reseolio options') {
  return new ReseolioValidationError(
    `Invalid ${where} "${key}": got ${describeValue(value)}, expected ${expected}.`,
    'RESEOLIO_INVALID_OPTION',
  );
}

export function assertPlainObject(value: unknown, what: string): asserts value is object {
  if (!isPlainObject(value)) {
    throw new ReseolioValidationError(`${what} must be a plain object.`, 'RESEOLIO_INVALID_OPTION');
  }
}

export function assertKnownKeys(
  value: Record<string, unknown>,
  known: readonly string[],
  what: string,
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ReseolioValidationError(
        `Unknown ${what} ${describeValue(key)}. Known: ${known.join(', ')}.`,
        'RESEOLIO_INVALID_OPTION',
      );
    }
  }
}

/**
 * A key storage compares (an idempotency key, a concurrency or rate-limit group): a non-empty
 * string of at most {@link MAX_IDEMPOTENCY_KEY_LENGTH} characters that every adapter stores as
 * given. PostgreSQL cannot store NUL in text, and its driver encodes an unpaired surrogate as
 * U+FFFD, which makes distinct keys equal ('\uD800' and '\uDBFF' would be one); SQLite keeps
 * both. Refusing them gives one answer everywhere. Returns the key.
 */
export function storableKey(
  value: unknown,
  key: string,
  where: string,
  hint = 'build keys from ids you control, such as a customer id',
): string {
  const expected =
    `a non-empty string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, without NUL ` +
    `or unpaired surrogates: ${hint}`;
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_IDEMPOTENCY_KEY_LENGTH
  ) {
    throw invalid(key, value, expected, where);
  }
  const problem = unstorableText(value);
  if (problem !== undefined) {
    throw new ReseolioValidationError(
      `Invalid ${where} "${key}": got ${describeValue(value)}, which ${problem}. ` +
        `Expected ${expected}.`,
      'RESEOLIO_INVALID_OPTION',
    );
  }
  return value;
}
