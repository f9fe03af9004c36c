import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobNotFoundError } from '../src/errors.ts';
import { toEngineLogger } from '../src/logging/engine-logger.ts';
import { ResultWaiters } from '../src/result-waiters.ts';
import type { JobRecord } from '../src/storage/records.ts';
import type { StorageAdapter } from '../src/storage/storage.ts';
import { waitFor } from './helpers.ts';

const quiet = toEngineLogger({ debug() {}, info() {}, warn() {}, error() {} });

/** Just enough storage for the waiters: capabilities and a counted `getJobStates`. */
function fakeStorage(crossProcessNotify: boolean) {
  const records = new Map<string, Partial<JobRecord>>();
  const reads: string[] = [];
  const batches: number[] = [];
  const storage = {
    capabilities: { crossProcessNotify, multiProcess: true, leasedEnqueue: true },
    async getJobStates(jobIds: readonly string[]) {
      reads.push(...jobIds);
      batches.push(jobIds.length);
      return jobIds.flatMap((id) => {
        const record = records.get(id);
        return record
          ? [
              {
                id,
                status: record.status,
                result: record.result ?? null,
                error: record.error ?? null,
              },
            ]
          : [];
      });
    },
  } as unknown as StorageAdapter;
  return { storage, records, reads, batches };
}

const waiters: ResultWaiters[] = [];
function makeWaiters(storage: StorageAdapter): ResultWaiters {
  const made = new ResultWaiters(storage, 60_000, quiet);
  waiters.push(made);
  return made;
}
afterEach(() => {
  for (const w of waiters.splice(0)) w.rejectAll(new Error('test over'));
});

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ResultWaiters', () => {
  it('resolves from the outcome a finished push carries, without reading the job', async () => {
    const { storage, reads, records } = fakeStorage(true);
    records.set('a', { status: 'running' });
    const w = makeWaiters(storage);
    const waiting = w.wait('a');
    await tick();
    expect(reads).toEqual(['a']); // no mark: the first read is needed
    w.finished('a', 'success', { result: '42', error: null });
    expect(await waiting).toEqual({ status: 'success', result: '42', error: null });
    expect(reads).toEqual(['a']);
  });

  it('reads the job when the push carries no outcome', async () => {
    const { storage, reads, records } = fakeStorage(true);
    records.set('a', { status: 'running' });
    const w = makeWaiters(storage);
    const waiting = w.wait('a');
    await tick();
    records.set('a', { status: 'dead', result: null, error: '{"message":"x"}' });
    w.finished('a', 'dead', undefined);
    expect(await waiting).toMatchObject({ status: 'dead', error: '{"message":"x"}' });
    expect(reads).toEqual(['a', 'a']);
  });

  it('skips the first read for a job this process just inserted, and only then', async () => {
    const { storage, reads, records } = fakeStorage(true);
    records.set('fresh', { status: 'pending' });
    records.set('done', { status: 'success', result: '1', error: null });
    records.set('resynced', { status: 'pending' });
    const w = makeWaiters(storage);

    const mark = w.markInserted();
    const fresh = w.wait('fresh', undefined, mark);
    await tick();
    expect(reads).toEqual([]);
    w.finished('fresh', 'success', { result: '2', error: null });
    expect(await fresh).toMatchObject({ result: '2' });

    // Finished before result() was called: remembered, so it is read (not waited on forever).
    const doneMark = w.markInserted();
    w.finished('done', 'success', undefined);
    expect(await w.wait('done', undefined, doneMark)).toMatchObject({ result: '1' });
    expect(reads).toEqual(['done']);

    // A resync since the insert means finishes may have been missed: read.
    const resyncMark = w.markInserted();
    w.resync();
    const resynced = w.wait('resynced', undefined, resyncMark);
    await tick();
    expect(reads).toEqual(['done', 'resynced']);
    records.set('resynced', { status: 'cancelled', result: null, error: null });
    w.finished('resynced', 'cancelled', undefined);
    expect(await resynced).toMatchObject({ status: 'cancelled' });
  });

  it('reads again once more finishes passed than it remembers', async () => {
    const { storage, reads, records } = fakeStorage(true);
    records.set('old', { status: 'success', result: '"x"', error: null });
    const w = makeWaiters(storage);
    const mark = w.markInserted();
    w.finished('old', 'success', undefined);
    for (let i = 0; i < 1024; i++) w.finished(`other-${i}`, 'success', undefined);
    // 'old' fell out of the remembered finishes: only a read can tell it finished.
    expect(await w.wait('old', undefined, mark)).toMatchObject({ result: '"x"' });
    expect(reads).toEqual(['old']);
  });

  it('never skips the read when storage cannot push finishes from other processes', async () => {
    const { storage, reads, records } = fakeStorage(false);
    records.set('a', { status: 'success', result: '1', error: null });
    const w = makeWaiters(storage);
    expect(w.markInserted()).toBeUndefined();
    expect(await w.wait('a', undefined, w.markInserted())).toMatchObject({ result: '1' });
    expect(reads).toEqual(['a']);
  });

  it('reads many waiters in batches of at most 500, one round trip at a time', async () => {
    // 2,000 result() calls on jobs made elsewhere: each needs a first read. One read per
    // waiter made 2,000 reads at once, and every poll tick as many again.
    const { storage, records, batches } = fakeStorage(true);
    const ids = Array.from({ length: 2_000 }, (_, i) => `job-${i}`);
    for (const id of ids) records.set(id, { status: 'running' });
    const w = makeWaiters(storage);
    const waiting = ids.map((id) => w.wait(id));
    await waitFor(() => batches.reduce((a, b) => a + b, 0) === 2_000);
    expect(batches).toEqual([500, 500, 500, 500]);
    for (const id of ids) records.set(id, { status: 'success', result: '1', error: null });
    w.checkAll();
    expect(await Promise.all(waiting)).toHaveLength(2_000);
    expect(batches).toHaveLength(8);
  });

  it('rejects waiters of unknown jobs with JobNotFoundError', async () => {
    const { storage } = fakeStorage(false);
    const w = makeWaiters(storage);
    await expect(w.wait('missing')).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('skips the safety-net read while finish pushes arrive, and reads once they stop', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { storage, records, batches } = fakeStorage(true);
      records.set('slow', { status: 'running' });
      const w = new ResultWaiters(storage, 100, quiet);
      waiters.push(w);
      const waiting = w.wait('slow', undefined, w.markInserted());
      // Pushes keep arriving (other jobs finishing): each tick finds one and reads nothing.
      for (let round = 0; round < 5; round++) {
        w.finished(`other-${round}`, 'success', { result: '1', error: null });
        vi.advanceTimersByTime(500);
        await tick();
      }
      expect(batches).toEqual([]);
      // The stream goes quiet: the next tick reads the waiter.
      records.set('slow', { status: 'success', result: '2', error: null });
      vi.advanceTimersByTime(500);
      await tick();
      expect(await waiting).toMatchObject({ result: '2' });
      expect(batches).toEqual([1]);
    } finally {
      vi.useRealTimers();
    }
  });
});
