/**
 * Input bounds: the largest times, timers, keys and list pages the engine accepts. Each is
 * where a database, a timer or a `Date` stops behaving, so every validator checks against these.
 */

/**
 * The latest time Reseolio stores, in epoch milliseconds: 9999-12-31T23:59:59.999Z. Every
 * stored time is an integer from 0 (1970-01-01T00:00:00.000Z) to this. Beyond year 9999
 * `Date` loses its ISO form, and beyond ±8.64e15 it is an Invalid Date: such a job could be
 * stored but never shown (`details()`, the job routes) again.
 */
export const MAX_TIME_MS = 253_402_300_799_999;
/**
 * The longest wait that is a timer (attempt timeouts, `result(timeoutMs)`, `stop()`'s drain,
 * leases and polling), in milliseconds: about 24.8 days. Node's `setTimeout` fires at once,
 * with only a warning, when asked to wait longer.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** The longest delay between two attempts, in milliseconds (365 days). */
export const MAX_RETRY_DELAY_MS = 365 * 24 * 60 * 60 * 1000;
/**
 * The longest idempotency key, in UTF-16 code units. PostgreSQL indexes (name, key) in a
 * B-tree, whose entries must stay under about 2700 bytes: 512 units are at most 1536 bytes of
 * UTF-8, which leaves room for the 200-character name.
 */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 512;
/** `listJobs` page bounds. The offset bound is where both SQL databases still agree. */
export const MAX_LIST_LIMIT = 1000;
export const MAX_LIST_OFFSET = Number.MAX_SAFE_INTEGER;
/** How the timer bound reads in messages. */
export const TIMER_RANGE = 'about 24.8 days, the longest a Node.js timer waits';
