import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import {
  enqueueRunning,
  fenceOf,
  LEASE_EXPIRED_ERROR,
  newJob,
  pendingRecord,
  T0,
  uniqueName,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

export function enqueueSuite({ test }: ContractContext): void {
  describe('enqueue', () => {
    test('an enqueued job round-trips every field, unicode and a 1 MB payload included', async ({
      storage,
    }) => {
      const parent = newJob();
      await storage.enqueue(parent);
      const big = 'x'.repeat(1 << 20);
      const job = newJob({
        name: `${uniqueName('ünïcødé')}:支払い:💳`,
        args: JSON.stringify(['héllo wörld', '日本語', '🚀👩‍💻', big]),
        policy: JSON.stringify({ backoff: 'linear', note: 'naïve ✓' }),
        maxAttempts: 7,
        idempotencyKey: 'clé-🔑-鍵',
        parentId: parent.id,
        createdAt: T0 + 1,
        runAt: T0 + 60_000,
      });
      const result = await storage.enqueue(job);
      expect(result).toEqual({ job: pendingRecord(job), deduplicated: false });
      const stored = await storage.getJob(job.id);
      expect(stored).toEqual(pendingRecord(job));
      expect(stored?.args.length).toBe(job.args.length);
    });

    test('a second enqueue with the same name and idempotency key returns the first job', async ({
      storage,
    }) => {
      const first = newJob({ idempotencyKey: 'order-1' });
      await storage.enqueue(first);
      const again = await storage.enqueue(
        newJob({ name: first.name, idempotencyKey: 'order-1', args: '["different"]' }),
      );
      expect(again).toEqual({ job: pendingRecord(first), deduplicated: true });
      expect(await storage.listJobs({ name: first.name })).toHaveLength(1);
    });

    test('deduplication returns the existing job whatever its status', async ({ storage }) => {
      // running
      const running = await enqueueRunning(storage, { idempotencyKey: 'k-running' });
      const dupRunning = await storage.enqueue(
        newJob({ name: running.name, idempotencyKey: 'k-running' }),
      );
      expect(dupRunning).toEqual({ job: running, deduplicated: true });

      // success
      const succeeded = await enqueueRunning(storage, { idempotencyKey: 'k-success' });
      await storage.ack({ ...fenceOf(succeeded), kind: 'success', result: '"done"', now: T0 + 5 });
      const dupSuccess = await storage.enqueue(
        newJob({ name: succeeded.name, idempotencyKey: 'k-success' }),
      );
      expect(dupSuccess.deduplicated).toBe(true);
      expect(dupSuccess.job).toEqual(await storage.getJob(succeeded.id));
      expect(dupSuccess.job).toMatchObject({
        id: succeeded.id,
        status: 'success',
        result: '"done"',
      });

      // dead
      const died = await enqueueRunning(storage, { idempotencyKey: 'k-dead' });
      await storage.ack({
        ...fenceOf(died),
        kind: 'dead',
        error: LEASE_EXPIRED_ERROR,
        now: T0 + 5,
      });
      const dupDead = await storage.enqueue(newJob({ name: died.name, idempotencyKey: 'k-dead' }));
      expect(dupDead.deduplicated).toBe(true);
      expect(dupDead.job).toMatchObject({ id: died.id, status: 'dead' });

      // cancelled
      const cancelled = newJob({ idempotencyKey: 'k-cancelled' });
      await storage.enqueue(cancelled);
      await storage.cancel(cancelled.id, T0 + 5);
      const dupCancelled = await storage.enqueue(
        newJob({ name: cancelled.name, idempotencyKey: 'k-cancelled' }),
      );
      expect(dupCancelled.deduplicated).toBe(true);
      expect(dupCancelled.job).toMatchObject({ id: cancelled.id, status: 'cancelled' });
    });

    test('the same idempotency key under two names makes two jobs', async ({ storage }) => {
      const a = newJob({ idempotencyKey: 'shared-key' });
      const b = newJob({ idempotencyKey: 'shared-key' });
      expect(await storage.enqueue(a)).toEqual({ job: pendingRecord(a), deduplicated: false });
      expect(await storage.enqueue(b)).toEqual({ job: pendingRecord(b), deduplicated: false });
    });

    test('jobs without an idempotency key are never deduplicated', async ({ storage }) => {
      const name = uniqueName();
      const a = newJob({ name });
      const b = newJob({ name });
      expect((await storage.enqueue(a)).deduplicated).toBe(false);
      expect((await storage.enqueue(b)).deduplicated).toBe(false);
      const ids = (await storage.listJobs({ name })).map((j) => j.id).sort();
      expect(ids).toEqual([a.id, b.id].sort());
    });

    test('twenty concurrent enqueues with one key across instances create exactly one job', async ({
      storage,
      openAnother,
    }) => {
      const instances = [storage, await openAnother(), await openAnother()];
      const name = uniqueName();
      const key = randomUUID();
      const jobs = Array.from({ length: 20 }, (_, i) =>
        newJob({ name, idempotencyKey: key, createdAt: T0 + i }),
      );
      const results = await Promise.all(
        jobs.map((job, i) => instances[i % instances.length]!.enqueue(job)),
      );
      const created = results.filter((r) => !r.deduplicated);
      expect(created).toHaveLength(1);
      const winner = created[0]!.job.id;
      expect(results.every((r) => r.job.id === winner)).toBe(true);
      const stored = await storage.listJobs({ name });
      expect(stored.map((j) => j.id)).toEqual([winner]);
    });
  });
}
