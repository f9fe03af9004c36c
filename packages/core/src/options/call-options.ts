import { describeValue } from '../describe-value.ts';
import { ReseolioValidationError } from '../errors.ts';
import { CALL_OPTION_KEYS, type CallOptions } from '../types.ts';
import { MAX_IDEMPOTENCY_KEY_LENGTH, MAX_TIME_MS } from './bounds.ts';
import {
  assertKnownKeys,
  assertPlainObject,
  integer,
  invalid,
  isIntegerIn,
  isPlainObject,
  unstorableText,
} from './validators.ts';

/**
 * Per-call options: the trailing object of `fn(...args, options)` or `fn.enqueue(args, options)`,
 * when a trailing argument is one, and when it is due.
 */

/** Validates per-call options (the retry part is validated when it is merged). */
export function validateCallOptions(options: CallOptions): CallOptions {
  assertPlainObject(options, 'call options');
  assertKnownKeys(options as Record<string, unknown>, CALL_OPTION_KEYS, 'call option');
  const { idempotencyKey, delayMs, runAt } = options;
  if (idempotencyKey !== undefined) validateIdempotencyKey(idempotencyKey);
  if (delayMs !== undefined) integer(options, 'delayMs', 0, 0, MAX_TIME_MS, 'call options');
  if (runAt !== undefined) {
    // Fractions are refused rather than truncated: storage keeps whole milliseconds, and a
    // fraction usually means seconds and milliseconds were mixed up somewhere.
    const ms = runAt instanceof Date ? runAt.getTime() : runAt;
    if (!isIntegerIn(ms, 0, MAX_TIME_MS)) {
      throw invalid(
        'runAt',
        runAt,
        `a valid Date or an integer of epoch milliseconds from 0 (${new Date(0).toISOString()}) ` +
          `to ${MAX_TIME_MS} (${new Date(MAX_TIME_MS).toISOString()})`,
        'call options',
      );
    }
  }
  if (delayMs !== undefined && runAt !== undefined) {
    throw new ReseolioValidationError(
      'Give either delayMs or runAt in call options, not both.',
      'RESEOLIO_INVALID_OPTION',
    );
  }
  return options;
}

/**
 * When a job becomes due, in epoch milliseconds, for options already validated by
 * {@link validateCallOptions}. `delayMs` is checked once more against `now`: the sum must
 * stay a storable time too.
 */
export function runAtOf(options: CallOptions, now: number): number {
  const { runAt, delayMs = 0 } = options;
  if (runAt !== undefined) return runAt instanceof Date ? runAt.getTime() : runAt;
  if (now + delayMs > MAX_TIME_MS) {
    throw invalid(
      'delayMs',
      delayMs,
      `an integer from 0 to ${MAX_TIME_MS - now}, so that now + delayMs stays at most ` +
        `${new Date(MAX_TIME_MS).toISOString()}`,
      'call options',
    );
  }
  return now + delayMs;
}

/**
 * Idempotency keys are compared by storage, so a key must mean the same on every adapter.
 * PostgreSQL cannot store NUL in text, and its driver encodes an unpaired surrogate as U+FFFD,
 * which makes distinct keys equal ('\uD800' and '\uDBFF' would be one job); SQLite keeps
 * both as given. Refusing them here gives one answer everywhere.
 */
function validateIdempotencyKey(key: unknown): void {
  const expected =
    `a non-empty string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, without NUL ` +
    'or unpaired surrogates: build keys from ids you control, such as "charge-" + the order id';
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw invalid('idempotencyKey', key, expected, 'call options');
  }
  const problem = unstorableText(key);
  if (problem !== undefined) {
    throw new ReseolioValidationError(
      `Invalid call options "idempotencyKey": got ${describeValue(key)}, which ${problem}. ` +
        `Expected ${expected}.`,
      'RESEOLIO_INVALID_OPTION',
    );
  }
}

/**
 * The keys of a trailing argument that are not call options, when it was read as call options
 * (it has at least one call-option key). Non-empty means it was most likely the handler's own
 * object argument.
 */
export function foreignCallOptionKeys(value: object): string[] {
  return Object.keys(value).filter((key) => !(CALL_OPTION_KEYS as readonly string[]).includes(key));
}

/** True when a trailing argument should be read as per-call options. */
export function isCallOptions(value: unknown): value is CallOptions {
  if (!isPlainObject(value)) return false;
  return CALL_OPTION_KEYS.some((key) => Object.hasOwn(value, key));
}
