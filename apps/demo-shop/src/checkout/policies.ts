import type { DurableOptions } from 'reseolio';

/** A saga step talking to a flaky service: a few quick retries, then it dies and we compensate. */
export const STEP_POLICY: DurableOptions = {
  maxAttempts: 5,
  backoff: 'exponential',
  initialDelayMs: 250,
  maxDelayMs: 4_000,
  timeoutMs: 10_000,
};

/**
 * Compensations must end up done: many attempts, capped delay. If one still dies, the order
 * stays `cancelling` and the page and the audit show it (retry it from the job routes).
 */
export const COMPENSATION_POLICY: DurableOptions = {
  maxAttempts: 20,
  backoff: 'exponential',
  initialDelayMs: 250,
  maxDelayMs: 4_000,
  timeoutMs: 10_000,
};
