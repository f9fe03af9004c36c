import { describe, expect } from 'vitest';
import {
  fenceOf,
  LEASE_MS,
  mustGet,
  newJob,
  newLeaseToken,
  OWNER,
  pendingRecord,
  T0,
  uniqueName,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

export function claimSuite({ test }: ContractContext): void {
  describe('claim', () => {
    test('claim takes only pending jobs whose runAt is at or before now', async ({ storage }) => {
      const name = uniqueName();
      const early = newJob({ name, runAt: T0 - 1_000 });
      const exactlyNow = newJob({ name, runAt: T0 });
      const future = newJob({ name, runAt: T0 + 1 });
      const cancelled = newJob({ name, runAt: T0 - 2_000 });
      for (const job of [early, exactlyNow, future, cancelled]) await storage.enqueue(job);
      await storage.cancel(cancelled.id, T0 - 500);

      const claimed = await storage.claim({
        leaseToken: newLeaseToken(),
        names: [name],
        ownerId: OWNER,
        limit: 10,
        now: T0,
        leaseExpiresAt: T0 + LEASE_MS,
      });
      expect(claimed.map((j) => j.id).sort()).toEqual([early.id, exactlyNow.id].sort());
      expect(await storage.getJob(future.id)).toEqual(pendingRecord(future));
      expect((await mustGet(storage, cancelled.id)).status).toBe('cancelled');
    });

    test('claim takes the oldest runAt first and breaks ties in creation order', async ({
      storage,
    }) => {
      const name = uniqueName();
      // Inserted in a scrambled order so insertion order cannot pass for the right order.
      const third = newJob({ name, runAt: T0 - 100, createdAt: T0 - 50 });
      const first = newJob({ name, runAt: T0 - 300, createdAt: T0 - 10 });
      const fourth = newJob({ name, runAt: T0 - 100, createdAt: T0 - 40 });
      const second = newJob({ name, runAt: T0 - 200, createdAt: T0 - 5 });
      for (const job of [third, first, fourth, second]) await storage.enqueue(job);

      const order: string[] = [];
      for (let i = 0; i < 4; i++) {
        const claimed = await storage.claim({
          leaseToken: newLeaseToken(),
          names: [name],
          ownerId: OWNER,
          limit: 1,
          now: T0,
          leaseExpiresAt: T0 + LEASE_MS,
        });
        expect(claimed).toHaveLength(1);
        order.push(claimed[0]!.id);
      }
      expect(order).toEqual([first.id, second.id, third.id, fourth.id]);
    });

    test('claim returns at most limit jobs and leaves the rest pending', async ({ storage }) => {
      const name = uniqueName();
      const jobs = Array.from({ length: 5 }, (_, i) => newJob({ name, runAt: T0 - 10 + i }));
      for (const job of jobs) await storage.enqueue(job);
      const claimed = await storage.claim({
        leaseToken: newLeaseToken(),
        names: [name],
        ownerId: OWNER,
        limit: 2,
        now: T0,
        leaseExpiresAt: T0 + LEASE_MS,
      });
      expect(claimed.map((j) => j.id).sort()).toEqual([jobs[0]!.id, jobs[1]!.id].sort());
      expect(await storage.listJobs({ name, status: 'pending' })).toHaveLength(3);
    });

    test('claim takes only jobs whose name is in names', async ({ storage }) => {
      const [a, b, c] = [newJob(), newJob(), newJob()];
      for (const job of [a, b, c]) await storage.enqueue(job);
      const claimed = await storage.claim({
        leaseToken: newLeaseToken(),
        names: [a.name, c.name, uniqueName('unregistered')],
        ownerId: OWNER,
        limit: 10,
        now: T0,
        leaseExpiresAt: T0 + LEASE_MS,
      });
      expect(claimed.map((j) => j.id).sort()).toEqual([a.id, c.id].sort());
      expect(await storage.getJob(b.id)).toEqual(pendingRecord(b));
    });

    test('claim with an empty names list claims nothing', async ({ storage }) => {
      const job = newJob();
      await storage.enqueue(job);
      const claimed = await storage.claim({
        leaseToken: newLeaseToken(),
        names: [],
        ownerId: OWNER,
        limit: 10,
        now: T0,
        leaseExpiresAt: T0 + LEASE_MS,
      });
      expect(claimed).toEqual([]);
      expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
    });

    test("a claimed job is running, owned, leased under the claim's token, started now and on its next attempt", async ({
      storage,
    }) => {
      const job = newJob({ runAt: T0 - 1_000 });
      await storage.enqueue(job);
      const now = T0 + 7;
      const leaseToken = newLeaseToken();
      const claimed = await storage.claim({
        leaseToken,
        names: [job.name],
        ownerId: OWNER,
        limit: 1,
        now,
        leaseExpiresAt: now + LEASE_MS,
      });
      const expected = {
        ...pendingRecord(job),
        status: 'running',
        ownerId: OWNER,
        leaseToken,
        leaseExpiresAt: now + LEASE_MS,
        startedAt: now,
        attempt: 1,
      };
      expect(claimed).toEqual([expected]);
      expect(await storage.getJob(job.id)).toEqual(expected);
    });

    test('a claimed job is not claimed again, even after its runAt has long passed', async ({
      storage,
    }) => {
      const job = newJob();
      await storage.enqueue(job);
      const input = { names: [job.name], limit: 10, leaseExpiresAt: T0 + LEASE_MS };
      const as = (ownerId: string) => ({ ...input, ownerId, leaseToken: newLeaseToken() });
      expect(await storage.claim({ ...as(OWNER), now: T0 })).toHaveLength(1);
      expect(await storage.claim({ ...as('worker-b'), now: T0 + 1 })).toEqual([]);
      // Even past the lease: only the sweeper turns an expired running job back into pending.
      expect(await storage.claim({ ...as('worker-c'), now: T0 + 2 * LEASE_MS })).toEqual([]);
      expect(await mustGet(storage, job.id)).toMatchObject({ ownerId: OWNER, attempt: 1 });
    });

    test('a job claimed again (after a failed attempt, after retry()) comes back as stored', async ({
      storage,
    }) => {
      // An adapter may build the claimed record partly from what the claim set (SQLite does):
      // what a job carries from earlier attempts (its last error, a cleared completedAt) must
      // come back exactly as stored.
      const job = newJob({ runAt: T0 - 1_000, maxAttempts: 3 });
      await storage.enqueue(job);
      const claimAt = async (now: number) => {
        const claimed = await storage.claim({
          leaseToken: newLeaseToken(),
          names: [job.name],
          ownerId: OWNER,
          limit: 1,
          now,
          leaseExpiresAt: now + LEASE_MS,
        });
        expect(claimed).toHaveLength(1);
        expect(claimed[0]).toEqual(await storage.getJob(job.id));
        return claimed[0]!;
      };
      const first = await claimAt(T0);
      expect(
        await storage.ack({
          ...fenceOf(first),
          kind: 'retry',
          error: '{"m":"first"}',
          runAt: T0,
          now: T0,
        }),
      ).toBe(true);
      const second = await claimAt(T0 + 1);
      expect(second).toMatchObject({ attempt: 2, error: '{"m":"first"}' });
      expect(
        await storage.ack({
          ...fenceOf(second),
          kind: 'dead',
          error: '{"m":"second"}',
          now: T0 + 2,
        }),
      ).toBe(true);
      expect(await storage.retry(job.id, T0 + 3)).toBe(true);
      const third = await claimAt(T0 + 4);
      expect(third).toMatchObject({ attempt: 1, completedAt: null, result: null });
    });
  });
}
