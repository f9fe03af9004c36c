import type { BackoffKind, ResolvedRetryPolicy } from '../types.ts';

/**
 * How a job's retry policy is stored: the engine writes it with the job at enqueue time, so
 * a deploy that changes a function's options does not change jobs already queued.
 *
 * It is stored on every row, so its size is paid on every insert: a JSON array of the values
 * in a fixed order, `["exponential",1000,60000,0.1,30000]` (36 bytes), not a keyed object
 * (120 bytes). Row width drives bulk enqueue speed on PostgreSQL, mostly through the WAL's
 * full-page images: the keyed object cost about a quarter of the insert rate. `maxAttempts`
 * is not repeated here, it has its own column (claims compare it).
 *
 * Rows written by 0.1.0 hold the keyed object; `decodePolicy` reads both forms.
 */
export function encodePolicy(policy: Readonly<ResolvedRetryPolicy>): string {
  return JSON.stringify([
    policy.backoff,
    policy.initialDelayMs,
    policy.maxDelayMs,
    policy.jitter,
    policy.timeoutMs,
  ]);
}

/** The policy of a stored job; `maxAttempts` comes from the job's own column. */
export function decodePolicy(text: string, maxAttempts: number): ResolvedRetryPolicy {
  const parsed: unknown = JSON.parse(text);
  if (Array.isArray(parsed)) {
    const [backoff, initialDelayMs, maxDelayMs, jitter, timeoutMs] = parsed as [
      BackoffKind,
      number,
      number,
      number,
      number,
    ];
    return { maxAttempts, backoff, initialDelayMs, maxDelayMs, jitter, timeoutMs };
  }
  return { ...(parsed as ResolvedRetryPolicy), maxAttempts };
}
