import type { ResolvedRetryPolicy } from '../types.ts';

/**
 * Delay before the next attempt after `failedAttempts` attempts have failed (1 for the first).
 * Pure: `random` is injectable so tests can pin the jitter.
 */
export function retryDelayMs(
  policy: ResolvedRetryPolicy,
  failedAttempts: number,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, failedAttempts);
  let delay: number;
  switch (policy.backoff) {
    case 'fixed':
      delay = policy.initialDelayMs;
      break;
    case 'linear':
      delay = policy.initialDelayMs * n;
      break;
    case 'exponential':
      delay = policy.initialDelayMs * 2 ** Math.min(n - 1, 52);
      break;
  }
  delay = Math.min(delay, policy.maxDelayMs);
  if (policy.jitter > 0) delay *= 1 + policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(delay, policy.maxDelayMs)));
}
