/**
 * Failure rates and latency of the fake external services. The page's switches change them at
 * runtime, so retries, declines and compensations can be provoked while watching.
 */
export interface Faults {
  /** Extra time every fake call takes, in milliseconds (randomised ±50 %). */
  latencyMs: number;
  /** Payment gateway: share of calls that fail transiently (retried). */
  gatewayFailureRate: number;
  /** Payment gateway: share of charges declined for good (NonRetryableError → compensation). */
  declineRate: number;
  /** Carrier: share of label requests that fail transiently. */
  carrierFailureRate: number;
  /** Mail provider: share of sends that fail transiently. */
  mailFailureRate: number;
  /** Image service: share of resizes that fail transiently. */
  imageFailureRate: number;
  /** The shop's own webhook receiver: share of deliveries it answers with 503. */
  webhookFailureRate: number;
}

export const DEFAULT_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 300,
  gatewayFailureRate: 0.2,
  declineRate: 0.1,
  carrierFailureRate: 0.2,
  mailFailureRate: 0.2,
  imageFailureRate: 0.2,
  webhookFailureRate: 0.3,
});

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 0,
  gatewayFailureRate: 0,
  declineRate: 0,
  carrierFailureRate: 0,
  mailFailureRate: 0,
  imageFailureRate: 0,
  webhookFailureRate: 0,
});

const RATE_KEYS = Object.keys(NO_FAULTS).filter((key) => key !== 'latencyMs') as (keyof Faults)[];

/** Validates a (partial) faults object; unknown keys and out-of-range values are refused. */
export function parseFaults(input: unknown, base: Faults = { ...NO_FAULTS }): Faults {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError('faults must be an object');
  }
  const result = { ...base };
  for (const [key, value] of Object.entries(input)) {
    if (!(key in NO_FAULTS)) throw new TypeError(`unknown fault "${key}"`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`${key} must be a number >= 0`);
    }
    if (RATE_KEYS.includes(key as keyof Faults) && value > 1) {
      throw new TypeError(`${key} is a rate between 0 and 1`);
    }
    result[key as keyof Faults] = value;
  }
  return result;
}

/** A failure the caller should retry: the fake service was "down" this time. */
export class TransientServiceError extends Error {
  readonly code: string;
  constructor(service: string, message: string) {
    super(`${service}: ${message}`);
    this.name = 'TransientServiceError';
    this.code = `${service.toUpperCase().replace(/\W+/g, '_')}_UNAVAILABLE`;
  }
}

/** True with probability `rate`. */
export function chance(rate: number): boolean {
  return rate > 0 && Math.random() < rate;
}

/** Waits the configured latency (±50 %), giving up early if the job is aborted. */
export function latency(faults: Faults, signal?: AbortSignal, factor = 1): Promise<void> {
  const ms = faults.latencyMs * factor * (0.5 + Math.random());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
