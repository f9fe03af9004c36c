import type { JobRecord, JobStatus, NewJob, StorageAdapter } from 'reseolio/storage';
import { describe, expect } from 'vitest';
import { claimExactly, fenceOf, newJob, T0, uniqueName } from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

const NONE: Record<JobStatus, number> = {
  pending: 0,
  running: 0,
  waiting: 0,
  success: 0,
  dead: 0,
  cancelled: 0,
};

/** Suspends a running job until `runAt`, as a sleep does. */
async function suspend(storage: StorageAdapter, job: JobRecord, runAt: number): Promise<void> {
  const applied = await storage.ack({
    ...fenceOf(job),
    kind: 'suspend',
    attempt: job.attempt - 1,
    runAt,
    waitingFor: '{"kind":"sleep"}',
    wake: { kind: 'time' },
    now: T0,
  });
  if (!applied) throw new Error(`could not suspend job ${job.id}`);
}

/**
 * Stores one job of `name` in `status`, due at `runAt` (claimed at `runAt` when it must run
 * first, so store a name's claimed jobs before its pending ones). A `waiting` job is due again
 * at `wakeAt`.
 */
async function store(
  storage: StorageAdapter,
  status: JobStatus,
  fields: Partial<NewJob> & { name: string; runAt: number },
  wakeAt = fields.runAt,
): Promise<void> {
  const job = newJob({ createdAt: fields.runAt, ...fields });
  if (status === 'pending' || status === 'cancelled') {
    await storage.enqueue(job);
    if (status === 'cancelled' && !(await storage.cancel(job.id, T0))) {
      throw new Error(`could not cancel job ${job.id}`);
    }
    return;
  }
  await storage.enqueue(job);
  const running = await claimExactly(storage, job, { now: fields.runAt });
  if (status === 'running') return;
  if (status === 'waiting') return suspend(storage, running, wakeAt);
  const fence = fenceOf(running);
  const applied = await storage.ack(
    status === 'success'
      ? { ...fence, kind: 'success', result: 'null', now: T0 }
      : { ...fence, kind: 'dead', error: '{}', now: T0 },
  );
  if (!applied) throw new Error(`could not end job ${job.id} as ${status}`);
}

/**
 * `stats({ now })`: every name with a stored job, its jobs counted per status (every status
 * present), and the `runAt` of its oldest due job that is not running, ordered by name.
 */
export function statsSuite({ test }: ContractContext): void {
  describe('stats', () => {
    test('stats of an empty database is an empty list', async ({ storage }) => {
      expect(await storage.stats({ now: T0 })).toEqual([]);
    });

    test('stats counts every status per name, ordered by name, 0 for a status with no job', async ({
      storage,
    }) => {
      const a = uniqueName('stats-a');
      const b = uniqueName('stats-b');
      // Stored out of name order, so an unsorted answer fails.
      await store(storage, 'pending', { name: b, runAt: T0 - 7 });
      for (const status of ['success', 'success', 'success', 'dead', 'cancelled'] as const) {
        await store(storage, status, { name: a, runAt: T0 - 20 });
      }
      for (const status of ['running', 'waiting', 'pending', 'pending'] as const) {
        await store(storage, status, { name: a, runAt: T0 - 10 }, T0 + 60_000);
      }
      expect(await storage.stats({ now: T0 })).toEqual([
        {
          name: a,
          counts: { pending: 2, running: 1, waiting: 1, success: 3, dead: 1, cancelled: 1 },
          oldestDueRunAt: T0 - 10,
        },
        { name: b, counts: { ...NONE, pending: 1 }, oldestDueRunAt: T0 - 7 },
      ]);
    });

    test('oldestDueRunAt ignores future, running and ended jobs', async ({ storage }) => {
      const name = uniqueName('stats');
      const now = T0 + 100;
      // Older than the due pending job, but none of them waits for a worker now.
      await store(storage, 'running', { name, runAt: T0 - 50 });
      await store(storage, 'success', { name, runAt: T0 - 40 });
      await store(storage, 'dead', { name, runAt: T0 - 30 });
      await store(storage, 'cancelled', { name, runAt: T0 - 20 });
      await store(storage, 'waiting', { name, runAt: T0 - 10 }, now + 1);
      await store(storage, 'pending', { name, runAt: now + 1 });
      await store(storage, 'pending', { name, runAt: T0 + 60 });
      await store(storage, 'pending', { name, runAt: now });
      const [stats] = await storage.stats({ now });
      expect(stats?.oldestDueRunAt).toBe(T0 + 60);

      const idle = uniqueName('stats-idle');
      await store(storage, 'running', { name: idle, runAt: T0 });
      await store(storage, 'pending', { name: idle, runAt: now + 1 });
      const idleStats = (await storage.stats({ now })).find((s) => s.name === idle);
      expect(idleStats).toEqual({
        name: idle,
        counts: { ...NONE, pending: 1, running: 1 },
        oldestDueRunAt: null,
      });
    });

    test('oldestDueRunAt counts a waiting job past its runAt', async ({ storage }) => {
      const name = uniqueName('stats');
      await store(storage, 'pending', { name, runAt: T0 + 80 });
      await store(storage, 'waiting', { name, runAt: T0 }, T0 + 50);
      expect(await storage.stats({ now: T0 + 100 })).toEqual([
        { name, counts: { ...NONE, pending: 1, waiting: 1 }, oldestDueRunAt: T0 + 50 },
      ]);
      // Before either is due, neither counts.
      expect((await storage.stats({ now: T0 + 49 }))[0]?.oldestDueRunAt).toBeNull();
    });
  });
}
