import { describe, expect, it } from 'vitest';
import {
  MAX_PROGRESS_BYTES,
  MemoryStorage,
  type ProgressJob,
  ReseolioStateError,
  ReseolioValidationError,
  reportProgress,
} from '../src/index.ts';
import type { ProgressInput } from '../src/storage/records.ts';
import { makeEngine, waitFor } from './helpers.ts';

/** Memory storage that counts progress writes, and can hold them to make reports pile up. */
class CountingStorage extends MemoryStorage {
  readonly writes: string[] = [];
  override async setProgress(input: ProgressInput): Promise<boolean> {
    this.writes.push(input.progress);
    return super.setProgress(input);
  }
}

function refusal(run: () => unknown): ReseolioValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ReseolioValidationError) return error;
    throw error;
  }
  throw new Error('expected a ReseolioValidationError');
}

describe('reportProgress', () => {
  it('outside a handler throws a ReseolioStateError that says where to call it', () => {
    expect(() => reportProgress(0.5)).toThrow(ReseolioStateError);
    expect(() => reportProgress(0.5)).toThrow(/inside a durable function's handler/);
  });

  it('refuses what is not JSON data, or is over the size limit, at the call', async () => {
    const engine = makeEngine();
    const refused: Record<string, ReseolioValidationError> = {};
    const fn = engine.durable('progress:validation', async () => {
      const cases: Record<string, unknown> = {
        nan: Number.NaN,
        infinity: Number.POSITIVE_INFINITY,
        undefined: undefined,
        bigint: 1n,
        date: new Date(0),
        map: new Map(),
        nestedFunction: { a: [1, () => {}] },
        nestedUndefined: { a: undefined },
        hole: new Array(3),
        tooLarge: 'x'.repeat(MAX_PROGRESS_BYTES),
      };
      for (const [label, value] of Object.entries(cases)) {
        refused[label] = refusal(() => reportProgress(value));
      }
      // The largest accepted value: a string of 8190 characters is 8192 bytes in JSON.
      await reportProgress('x'.repeat(MAX_PROGRESS_BYTES - 2));
      return 'ok';
    });
    await engine.start();
    expect(await (await fn()).result(10_000)).toBe('ok');
    for (const label of Object.keys(refused).filter((l) => l !== 'tooLarge')) {
      expect(refused[label]!.code, label).toBe('RESEOLIO_INVALID_PROGRESS');
    }
    expect(refused.nestedFunction!.message).toMatch(/progress\.a\[1\] is function/);
    expect(refused.tooLarge!.code).toBe('RESEOLIO_PROGRESS_TOO_LARGE');
    expect(refused.tooLarge!.message).toMatch(/at most 8192 bytes/);
  });

  it('stores the value: details().progress is null before a report, then the last value', async () => {
    const engine = makeEngine();
    let proceed!: () => void;
    const gate = new Promise<void>((resolve) => {
      proceed = resolve;
    });
    const fn = engine.durable('progress:details', async () => {
      expect(await reportProgress({ done: 1, total: 2, stage: 'resize' })).toBe(true);
      await gate;
      await reportProgress(1);
      return 'done';
    });
    await engine.start();
    const handle = await fn();
    await waitFor(async () => (await handle.details()).progress !== null);
    expect((await handle.details()).progress).toEqual({ done: 1, total: 2, stage: 'resize' });
    proceed();
    await handle.result(10_000);
    const details = await handle.details();
    expect(details.status).toBe('success');
    expect(details.progress).toBe(1);
    const pending = await fn.enqueue([], { runAt: new Date(Date.now() + 3_600_000) });
    expect((await pending.details()).progress).toBeNull();
  });

  it('coalesces: 1,000 quick reports make far fewer writes, and the last value is stored', async () => {
    const storage = new CountingStorage();
    const engine = makeEngine({ storage });
    const seen: [ProgressJob, unknown][] = [];
    engine.on('job:progress', (job, progress) => seen.push([job, progress]));
    const fn = engine.durable('progress:coalesce', async () => {
      for (let i = 1; i <= 1_000; i++) {
        void reportProgress(i / 1_000);
        // Other work between reports: a write can start and end meanwhile.
        if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      return 'done';
    });
    await engine.start();
    const handle = await fn();
    await handle.result(10_000);
    expect(storage.writes.length).toBeGreaterThan(0);
    expect(storage.writes.length).toBeLessThanOrEqual(200);
    expect(storage.writes.at(-1)).toBe('1');
    expect((await handle.details()).progress).toBe(1);
    await waitFor(() => seen.at(-1)?.[1] === 1);
    expect(seen.at(-1)).toEqual([{ id: handle.jobId, name: 'progress:coalesce' }, 1]);
  });

  it('a report after the attempt lost the job resolves false and writes nothing', async () => {
    const storage = new CountingStorage();
    const engine = makeEngine({ storage });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let answer: boolean | undefined;
    const fn = engine.durable('progress:fenced', async () => {
      await released;
      answer = await reportProgress(0.5);
    });
    await engine.start();
    const handle = await fn();
    await waitFor(async () => (await handle.status()) === 'running');
    await handle.cancel();
    release();
    await waitFor(() => answer !== undefined);
    expect(answer).toBe(false);
    expect((await handle.details()).progress).toBeNull();
  });

  it('a storage failure rejects the awaited report and is reported as an engine error', async () => {
    const storage = new CountingStorage();
    storage.setProgress = async () => {
      throw new Error('database unreachable');
    };
    const engine = makeEngine({ storage });
    const errors: Error[] = [];
    engine.on('error', (error) => errors.push(error));
    const fn = engine.durable('progress:failing', async () => {
      // Not awaited: must not crash the process.
      void reportProgress(0.1);
      await expect(reportProgress(0.2)).rejects.toThrow('database unreachable');
      return 'survived';
    });
    await engine.start();
    expect(await (await fn()).result(10_000)).toBe('survived');
    expect(errors.map((e) => e.message)).toContain('database unreachable');
  });
});
