import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from '../src/index.ts';

const policy = { ...DEFAULT_RETRY_POLICY, initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 };

describe('retryDelayMs', () => {
  it('grows exponentially, linearly or not at all, capped at maxDelayMs', () => {
    expect(
      [1, 2, 3, 4, 5].map((n) => retryDelayMs({ ...policy, backoff: 'exponential' }, n)),
    ).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 3].map((n) => retryDelayMs({ ...policy, backoff: 'linear' }, n))).toEqual([
      100, 200, 300,
    ]);
    expect([1, 5].map((n) => retryDelayMs({ ...policy, backoff: 'fixed' }, n))).toEqual([100, 100]);
  });

  it('spreads by ±jitter and never passes the cap', () => {
    const jittered = { ...policy, jitter: 0.5 };
    expect(retryDelayMs(jittered, 1, () => 0)).toBe(50);
    expect(retryDelayMs(jittered, 1, () => 1)).toBe(150);
    expect(retryDelayMs(jittered, 10, () => 1)).toBe(1000);
  });
});
