import {
  type BackoffKind,
  type DurableOptions,
  FLOW_OPTION_KEYS,
  RETRY_OPTION_KEYS,
  type ResolvedRetryPolicy,
  type RetryOptions,
} from '../types.ts';
import { MAX_RETRY_DELAY_MS, MAX_TIMER_MS } from './bounds.ts';
import { assertKnownKeys, assertPlainObject, integer, invalid } from './validators.ts';

/**
 * Retry policies: `durable()` registration options, the engine's `defaults`, and the retry keys
 * of per-call options, each merged over the policy beneath it.
 */

const BACKOFF_KINDS: readonly BackoffKind[] = ['exponential', 'linear', 'fixed'];

/** Whether call options override any retry setting (if not, the registration's policy is reused). */
export function hasRetryOption(options: object): boolean {
  return RETRY_OPTION_KEYS.some((key) => (options as Record<string, unknown>)[key] !== undefined);
}

/** Merges `overrides` (validated) over an already valid policy. */
export function resolveRetryPolicy(
  base: Readonly<ResolvedRetryPolicy>,
  overrides: RetryOptions,
  where: string,
): ResolvedRetryPolicy {
  const o = overrides as Record<string, unknown>;
  const policy: ResolvedRetryPolicy = {
    maxAttempts: integer(o, 'maxAttempts', base.maxAttempts, 1, 10_000, where),
    backoff: base.backoff,
    initialDelayMs: integer(o, 'initialDelayMs', base.initialDelayMs, 0, MAX_TIMER_MS, where),
    // A retry is stored as now + delay: the cap keeps that a real date.
    maxDelayMs: integer(o, 'maxDelayMs', base.maxDelayMs, 0, MAX_RETRY_DELAY_MS, where),
    jitter: base.jitter,
    timeoutMs: integer(o, 'timeoutMs', base.timeoutMs, 1, MAX_TIMER_MS, where),
  };
  if (o.backoff !== undefined) {
    if (!BACKOFF_KINDS.includes(o.backoff as BackoffKind)) {
      throw invalid(
        'backoff',
        o.backoff,
        `one of ${BACKOFF_KINDS.map((k) => `'${k}'`).join(', ')}`,
        where,
      );
    }
    policy.backoff = o.backoff as BackoffKind;
  }
  if (o.jitter !== undefined) {
    if (typeof o.jitter !== 'number' || !(o.jitter >= 0 && o.jitter <= 1)) {
      throw invalid('jitter', o.jitter, 'a number from 0 (no jitter) to 1', where);
    }
    policy.jitter = o.jitter;
  }
  return policy;
}

/**
 * Checks that registration options are a plain object of known keys (retry and flow keys);
 * their values are checked as the policy and the flow settings are resolved.
 */
export function validateDurableOptions(options: unknown): DurableOptions {
  if (options === undefined) return {};
  assertPlainObject(options, 'durable() options');
  assertKnownKeys(
    options as Record<string, unknown>,
    [...RETRY_OPTION_KEYS, ...FLOW_OPTION_KEYS],
    'durable() option',
  );
  return options as DurableOptions;
}
