import { describe, expect, it } from 'vitest';
import { coalesce } from '../src/api/coalesce.ts';

describe('coalesce', () => {
  it('shares a running read and a fresh result, and reads again after a failure', async () => {
    let reads = 0;
    let fail = false;
    const read = coalesce(60_000, async () => {
      reads += 1;
      if (fail) throw new Error('down');
      return reads;
    });
    const [a, b] = await Promise.all([read(), read()]);
    expect([a, b, reads]).toEqual([1, 1, 1]);
    expect(await read()).toBe(1);

    const stale = coalesce(0, async () => {
      reads += 1;
      if (fail) throw new Error('down');
      return reads;
    });
    fail = true;
    await expect(stale()).rejects.toThrow('down');
    fail = false;
    expect(await stale()).toBe(reads);
  });
});
