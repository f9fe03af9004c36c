import { describe, expect } from 'vitest';
import { enqueueRunning, fenceOf, newJob, pendingRecord, T0, uniqueName } from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

export function queriesSuite({ test }: ContractContext): void {
  describe('queries', () => {
    test('getJob returns undefined for an unknown id, UUID or not', async ({ storage }) => {
      expect(await storage.getJob('00000000-0000-4000-8000-000000000000')).toBeUndefined();
      expect(await storage.getJob('nope')).toBeUndefined();
    });

    test('getJobStates returns the status and outcome of the known ids, in one call', async ({
      storage,
    }) => {
      const pending = newJob();
      await storage.enqueue(pending);
      const running = await enqueueRunning(storage);
      const succeeded = await enqueueRunning(storage);
      await storage.ack({ ...fenceOf(succeeded), kind: 'success', result: '"ok"', now: T0 + 1 });
      const died = await enqueueRunning(storage);
      await storage.ack({ ...fenceOf(died), kind: 'dead', error: '{"m":"x"}', now: T0 + 1 });
      const states = await storage.getJobStates([
        pending.id,
        running.id,
        succeeded.id,
        died.id,
        '00000000-0000-4000-8000-000000000000',
        'not-a-uuid',
      ]);
      expect(states.sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
        [
          { id: pending.id, status: 'pending', result: null, error: null },
          { id: running.id, status: 'running', result: null, error: null },
          { id: succeeded.id, status: 'success', result: '"ok"', error: null },
          { id: died.id, status: 'dead', result: null, error: '{"m":"x"}' },
        ].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
      expect(await storage.getJobStates([])).toEqual([]);
    });

    test('listJobs returns jobs newest first', async ({ storage }) => {
      const jobs = [3, 1, 4, 2].map((i) => newJob({ createdAt: T0 + i }));
      for (const job of jobs) await storage.enqueue(job);
      const listed = await storage.listJobs({});
      expect(listed.map((j) => j.createdAt)).toEqual([T0 + 4, T0 + 3, T0 + 2, T0 + 1]);
      expect(listed[0]).toEqual(pendingRecord(jobs[2]!));
    });

    test('listJobs filters by one status or by several', async ({ storage }) => {
      const pending = newJob({ createdAt: T0 + 1 });
      await storage.enqueue(pending);
      const running = await enqueueRunning(storage, { createdAt: T0 + 2 });
      const succeeded = await enqueueRunning(storage, { createdAt: T0 + 3 });
      await storage.ack({ ...fenceOf(succeeded), kind: 'success', result: '1', now: T0 + 4 });
      const cancelled = newJob({ createdAt: T0 + 5 });
      await storage.enqueue(cancelled);
      await storage.cancel(cancelled.id, T0 + 6);

      const ids = async (status: Parameters<typeof storage.listJobs>[0]['status']) =>
        (await storage.listJobs({ status })).map((j) => j.id);
      expect(await ids('pending')).toEqual([pending.id]);
      expect(await ids('running')).toEqual([running.id]);
      expect(await ids(['success', 'cancelled'])).toEqual([cancelled.id, succeeded.id]);
      expect(await ids(['dead'])).toEqual([]);
      expect(await ids([])).toEqual([]);
    });

    test('listJobs filters by name and by parentId', async ({ storage }) => {
      const name = uniqueName();
      const parent = newJob({ createdAt: T0 });
      await storage.enqueue(parent);
      const child1 = newJob({ name, parentId: parent.id, createdAt: T0 + 1 });
      const child2 = newJob({ parentId: parent.id, createdAt: T0 + 2 });
      const sameName = newJob({ name, createdAt: T0 + 3 });
      for (const job of [child1, child2, sameName]) await storage.enqueue(job);

      expect((await storage.listJobs({ name })).map((j) => j.id)).toEqual([sameName.id, child1.id]);
      expect((await storage.listJobs({ parentId: parent.id })).map((j) => j.id)).toEqual([
        child2.id,
        child1.id,
      ]);
      expect((await storage.listJobs({ name, parentId: parent.id })).map((j) => j.id)).toEqual([
        child1.id,
      ]);
    });

    test('listJobs pages with limit and offset', async ({ storage }) => {
      const jobs = Array.from({ length: 7 }, (_, i) => newJob({ createdAt: T0 + i }));
      for (const job of jobs) await storage.enqueue(job);
      const newestFirst = jobs.map((j) => j.id).reverse();
      const page = async (limit: number, offset: number) =>
        (await storage.listJobs({ limit, offset })).map((j) => j.id);
      expect(await page(3, 0)).toEqual(newestFirst.slice(0, 3));
      expect(await page(3, 3)).toEqual(newestFirst.slice(3, 6));
      expect(await page(3, 6)).toEqual(newestFirst.slice(6));
      expect(await page(3, 9)).toEqual([]);
      expect((await storage.listJobs({ offset: 5 })).map((j) => j.id)).toEqual(
        newestFirst.slice(5),
      );
    });

    test('listJobs returns at most 100 jobs by default', async ({ storage }) => {
      const name = uniqueName();
      for (let i = 0; i < 101; i++) await storage.enqueue(newJob({ name, createdAt: T0 + i }));
      const listed = await storage.listJobs({ name });
      expect(listed).toHaveLength(100);
      expect(listed[0]!.createdAt).toBe(T0 + 100);
      expect(listed[99]!.createdAt).toBe(T0 + 1);
    });
  });
}
