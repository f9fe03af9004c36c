import { describe, expect, it } from 'vitest';
import { decodePolicy, encodePolicy } from '../src/storage/policy-text.ts';
import type { ResolvedRetryPolicy } from '../src/types.ts';

const policy: ResolvedRetryPolicy = {
  maxAttempts: 5,
  backoff: 'linear',
  initialDelayMs: 250,
  maxDelayMs: 9_000,
  jitter: 0,
  timeoutMs: 1_234,
};

describe('stored retry policy', () => {
  it('round-trips, with maxAttempts taken from the job column', () => {
    const text = encodePolicy(policy);
    expect(text).toBe('["linear",250,9000,0,1234]');
    expect(decodePolicy(text, 5)).toEqual(policy);
    expect(decodePolicy(text, 2)).toEqual({ ...policy, maxAttempts: 2 });
  });

  it('reads the keyed object that 0.1.0 stored', () => {
    const legacy = JSON.stringify(policy);
    expect(decodePolicy(legacy, 5)).toEqual(policy);
  });
});
