import { describe, expect, it } from 'vitest';
import { AttemptAbort } from '../src/worker/attempt-abort.ts';

describe('AttemptAbort', () => {
  it('aborts a signal taken before the abort, and rejects the race with the first reason', async () => {
    const aborter = new AttemptAbort();
    const signal = aborter.signal;
    expect(signal.aborted).toBe(false);
    const first = new Error('timeout');
    aborter.abort(first);
    aborter.abort(new Error('later'));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(first);
    await expect(aborter.promise).rejects.toBe(first);
  });

  it('hands out a signal born aborted when asked only after the abort', () => {
    const aborter = new AttemptAbort();
    const reason = new Error('cancelled');
    aborter.abort(reason);
    expect(aborter.aborted).toBe(true);
    expect(aborter.signal.aborted).toBe(true);
    expect(aborter.signal.reason).toBe(reason);
    expect(aborter.signal).toBe(aborter.signal);
  });

  it('an abort nobody races is not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    new AttemptAbort().abort(new Error('shutdown'));
    // Node reports unhandled rejections once the microtasks have run, before the next phase of
    // the event loop: by the time setImmediate fires, one would have been reported.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });
});
