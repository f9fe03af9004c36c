import { ReseolioValidationError } from '../errors.ts';
import { CALL_OPTION_KEYS, type CallOptions } from '../types.ts';
import { MAX_TIME_MS } from './bounds.ts';
import { validatePriority } from './flow-options.ts';
import {
  assertKnownKeys,
  assertPlainObject,
  integer,
  invalid,
  isIntegerIn,
  isPlainObject,
  storableKey,
} from './validators.ts';

/**
 * Per-call options: the trailing object of `fn(...args, options)` or `fn.enqueue(args, options)`,
 * when a trailing argument is one, and when it is due.
 */

/** Validates per-call options (the retry part is validated when it is merged). */
export function validateCallOptions(options: CallOptions): CallOptions {
  assertPlainObject(options, 'call options');
  assertKnownKeys(options as Record<string, unknown>, CALL_OPTION_KEYS, 'call option');
  const { idempotencyKey, delayMs, runAt, priority, concurrencyKey, rateLimitKey } = options;
  if (idempotencyKey !== undefined) validateIdempotencyKey(idempotencyKey);
  if (priority !== undefined) validatePriority(priority, 'call options');
  if (concurrencyKey !== undefined) storableKey(concurrencyKey, 'concurrencyKey', 'call options');
  if (rateLimitKey !== undefined) storableKey(rateLimitKey, 'rateLimitKey', 'call options');
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
 * Idempotency keys are compared by storage, so a key must mean the same on every adapter
 * (see {@link storableKey}).
 */
function validateIdempotencyKey(key: unknown): void {
  storableKey(
    key,
    'idempotencyKey',
    'call options',
    'build keys from ids you control, such as "charge-" + the order id',
  );
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
