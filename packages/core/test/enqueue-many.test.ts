import { describe, expect, it } from 'vitest';
import {
  MemoryStorage,
  PayloadTooLargeError,
  ReseolioValidationError,
  SerializationError,
} from '../src/index.ts';
import { makeEngine } from './helpers.ts';

describe('fn.enqueueMany', () => {
  it('stores one job per argument list, in order, and runs them all', async () => {
    const engine = makeEngine();
    await engine.start();
    const square = engine.durable('square', async (n: number) => n * n);
    const handles = await square.enqueueMany([[1], [2], [3]], { maxAttempts: 5 });
    expect(await Promise.all(handles.map((h) => h.result(5000)))).toEqual([1, 4, 9]);
    const details = await Promise.all(handles.map((h) => h.details()));
    expect(details.map((d) => d.args)).toEqual([[1], [2], [3]]);
    expect(details.every((d) => d.maxAttempts === 5)).toBe(true);
    expect(await square.enqueueMany([])).toEqual([]);
  });

  it('validates every item before storing anything', async () => {
    const storage = new MemoryStorage();
    const engine = makeEngine({ storage, maxPayloadBytes: 1000, workerConcurrency: 0 });
    const fn = engine.durable('validated', async (_value: unknown) => {});
    await expect(fn.enqueueMany([[1], [() => 2], [3]])).rejects.toBeInstanceOf(SerializationError);
    await expect(fn.enqueueMany([[1], ['x'.repeat(2000)]])).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    await expect(fn.enqueueMany([[1]], { idempotencyKey: 'k' })).rejects.toBeInstanceOf(
      ReseolioValidationError,
    );
    await expect(fn.enqueueMany([1] as never)).rejects.toBeInstanceOf(ReseolioValidationError);
    expect(await engine.listJobs()).toEqual([]);
  });

  it('gives each child of a running job its deterministic key, so a retry re-attaches', async () => {
    const engine = makeEngine({ defaults: { initialDelayMs: 1, jitter: 0 } });
    await engine.start();
    let runs = 0;
    const child = engine.durable('child', async (n: number) => {
      runs += 1;
      return n;
    });
    let attempts = 0;
    const parent = engine.durable('parent', async () => {
      attempts += 1;
      const handles = await child.enqueueMany([[1], [2]]);
      const values = await Promise.all(handles.map((h) => h.result(5000)));
      if (attempts === 1) throw new Error('retry me');
      return values;
    });
    expect(await (await parent()).result(5000)).toEqual([1, 2]);
    expect(attempts).toBe(2);
    expect(runs).toBe(2);
    const children = await engine.listJobs({ name: 'child' });
    expect(children).toHaveLength(2);
    expect(children.every((c) => c.idempotencyKey?.startsWith('child:'))).toBe(true);
  });
});
