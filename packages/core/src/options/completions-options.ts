import { ReseolioValidationError } from '../errors.ts';
import type { CompletionsOptions } from '../types.ts';
import { assertKnownKeys, assertPlainObject, integer } from './validators.ts';

/** `completions()`'s window when none is given: the last hour, in milliseconds. */
export const DEFAULT_COMPLETIONS_SINCE_MS = 3_600_000;
/** `completions()`'s bucket width when none is given: one minute, in milliseconds. */
export const DEFAULT_COMPLETIONS_BUCKET_MS = 60_000;
/** The longest window: 365 days. */
const MAX_SINCE_MS = 365 * 24 * 60 * 60 * 1000;
/** Bucket widths from one second to one day. */
const MIN_BUCKET_MS = 1000;
const MAX_BUCKET_MS = 24 * 60 * 60 * 1000;
/** At most this many buckets per function in one answer, so a reply stays small. */
export const MAX_COMPLETION_BUCKETS = 10_000;

/** `completions(options)`: validated, defaults filled. */
export function resolveCompletionsOptions(options: unknown): {
  sinceMs: number;
  bucketMs: number;
} {
  const where = 'completions() options';
  if (options === undefined) {
    return { sinceMs: DEFAULT_COMPLETIONS_SINCE_MS, bucketMs: DEFAULT_COMPLETIONS_BUCKET_MS };
  }
  assertPlainObject(options, where);
  assertKnownKeys(
    options as Record<string, unknown>,
    ['sinceMs', 'bucketMs'] satisfies (keyof CompletionsOptions)[],
    where,
  );
  const sinceMs = integer(options, 'sinceMs', DEFAULT_COMPLETIONS_SINCE_MS, 1, MAX_SINCE_MS, where);
  const bucketMs = integer(
    options,
    'bucketMs',
    DEFAULT_COMPLETIONS_BUCKET_MS,
    MIN_BUCKET_MS,
    MAX_BUCKET_MS,
    where,
  );
  if (Math.ceil(sinceMs / bucketMs) > MAX_COMPLETION_BUCKETS) {
    throw new ReseolioValidationError(
      `Invalid ${where}: sinceMs ${sinceMs} in buckets of ${bucketMs} ms makes more than ` +
        `${MAX_COMPLETION_BUCKETS} buckets; use a wider bucketMs (at least ` +
        `${Math.ceil(sinceMs / MAX_COMPLETION_BUCKETS)}) or a shorter sinceMs.`,
      'RESEOLIO_INVALID_OPTION',
    );
  }
  return { sinceMs, bucketMs };
}
