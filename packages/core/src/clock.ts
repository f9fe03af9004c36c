/** Every timestamp the engine hands to storage comes from a `Clock`, so tests can drive time. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
