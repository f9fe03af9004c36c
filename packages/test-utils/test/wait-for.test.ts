import { describe, expect, it } from 'vitest';
import { waitFor } from '../src/index.ts';

describe('waitFor', () => {
  it('resolves the first truthy value the check returns', async () => {
    let calls = 0;
    expect(await waitFor(() => (++calls === 3 ? 'third' : undefined))).toBe('third');
    expect(await waitFor(async () => calls > 0 && calls)).toBe(3);
  });

  it('names what it waited for, read at the timeout', async () => {
    const seen: string[] = [];
    const waiting = waitFor(() => false, { timeoutMs: 30, what: () => `seen ${seen.join(',')}` });
    seen.push('a');
    await expect(waiting).rejects.toThrow(/timed out after 30 ms waiting for seen a$/);
    await expect(waitFor(() => false, 20)).rejects.toThrow(/waiting for the condition/);
  });

  it('rejects at once with what the check throws', async () => {
    const error = new Error('the child exited');
    await expect(
      waitFor(() => {
        throw error;
      }),
    ).rejects.toBe(error);
  });
});
