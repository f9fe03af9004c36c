import type { Logger, ResolvedRetryPolicy } from '../types.ts';

/**
 * Named defaults: the retry policy, the storage, `stop()`'s drain deadline, `listJobs()`'s page
 * and the logger. The engine's numeric options keep their defaults beside their bounds, in
 * `engine-options.ts`.
 */

export const DEFAULT_RETRY_POLICY: Readonly<ResolvedRetryPolicy> = Object.freeze({
  maxAttempts: 3,
  backoff: 'exponential',
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  jitter: 0.1,
  timeoutMs: 30_000,
});

/** The storage used when the `storage` option is left out: an embedded SQLite file. */
export const DEFAULT_STORAGE = 'sqlite:./reseolio.db';
/** `stop()`'s drain deadline when none is given, in milliseconds. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** `listJobs()`'s page size when none is given. */
export const DEFAULT_LIST_LIMIT = 100;

/** The logger used when none is given: warnings and errors to the console, the rest dropped. */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (message, ...meta) => console.warn(`[reseolio] ${message}`, ...meta),
  error: (message, ...meta) => console.error(`[reseolio] ${message}`, ...meta),
};
