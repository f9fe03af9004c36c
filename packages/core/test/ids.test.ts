import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/ids.ts';

describe('uuidv7', () => {
  it('is a version 7, variant 10 UUID carrying the timestamp', () => {
    const id = uuidv7(1_700_000_000_123);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(
      1_700_000_000_123,
    );
  });

  it('strictly increases within one millisecond, past the 12-bit sequence', () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 5000 }, () => uuidv7(now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
