import { describe, expect } from 'vitest';
import {
  enqueueRunning,
  fenceOf,
  LEASE_EXPIRED_ERROR,
  mustGet,
  newJob,
  pendingRecord,
  T0,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

export function cancelRetrySuite({ test }: ContractContext): void {
  describe('cancel and retry', () => {
    test('cancelling a pending job makes it cancelled with completedAt', async ({ storage }) => {
      const job = newJob();
      await storage.enqueue(job);
      expect(await storage.cancel(job.id, T0 + 10)).toBe(true);
      expect(await storage.getJob(job.id)).toEqual({
        ...pendingRecord(job),
        status: 'cancelled',
        completedAt: T0 + 10,
      });
    });

    test('cancelling a running job makes it cancelled and clears its owner', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage);
      expect(await storage.cancel(running.id, T0 + 10)).toBe(true);
      expect(await storage.getJob(running.id)).toEqual({
        ...running,
        status: 'cancelled',
        ownerId: null,
        leaseExpiresAt: null,
        completedAt: T0 + 10,
      });
    });

    test('cancel returns false for final and unknown jobs and changes nothing', async ({
      storage,
    }) => {
      const succeeded = await enqueueRunning(storage);
      await storage.ack({ ...fenceOf(succeeded), kind: 'success', result: '1', now: T0 + 1 });
      const died = await enqueueRunning(storage);
      await storage.ack({
        ...fenceOf(died),
        kind: 'dead',
        error: LEASE_EXPIRED_ERROR,
        now: T0 + 1,
      });
      const cancelled = newJob();
      await storage.enqueue(cancelled);
      await storage.cancel(cancelled.id, T0 + 1);

      for (const id of [succeeded.id, died.id, cancelled.id]) {
        const before = await mustGet(storage, id);
        expect(await storage.cancel(id, T0 + 50)).toBe(false);
        expect(await storage.getJob(id)).toEqual(before);
      }
      expect(await storage.cancel(UNKNOWN_ID, T0)).toBe(false);
      expect(await storage.cancel('nope', T0)).toBe(false);
    });

    test('retrying a dead job makes it pending at attempt 0 and runAt now', async ({ storage }) => {
      const running = await enqueueRunning(storage);
      await storage.ack({
        ...fenceOf(running),
        kind: 'dead',
        error: LEASE_EXPIRED_ERROR,
        now: T0 + 1,
      });
      expect(await storage.retry(running.id, T0 + 100)).toBe(true);
      expect(await storage.getJob(running.id)).toEqual({
        ...running,
        status: 'pending',
        attempt: 0,
        runAt: T0 + 100,
        // The last failure stays visible until a new attempt records another outcome.
        error: LEASE_EXPIRED_ERROR,
        ownerId: null,
        leaseExpiresAt: null,
        completedAt: null,
      });
    });

    test('retrying a cancelled job makes it pending at attempt 0 and runAt now', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage);
      await storage.cancel(running.id, T0 + 1);
      expect(await storage.retry(running.id, T0 + 100)).toBe(true);
      expect(await storage.getJob(running.id)).toEqual({
        ...running,
        status: 'pending',
        attempt: 0,
        runAt: T0 + 100,
        ownerId: null,
        leaseExpiresAt: null,
        completedAt: null,
      });
    });

    test('retry returns false for pending, running, successful and unknown jobs', async ({
      storage,
    }) => {
      const pending = newJob();
      await storage.enqueue(pending);
      const running = await enqueueRunning(storage);
      const succeeded = await enqueueRunning(storage);
      await storage.ack({ ...fenceOf(succeeded), kind: 'success', result: '1', now: T0 + 1 });

      for (const id of [pending.id, running.id, succeeded.id]) {
        const before = await mustGet(storage, id);
        expect(await storage.retry(id, T0 + 50)).toBe(false);
        expect(await storage.getJob(id)).toEqual(before);
      }
      expect(await storage.retry(UNKNOWN_ID, T0)).toBe(false);
      expect(await storage.retry('nope', T0)).toBe(false);
    });
  });
}
