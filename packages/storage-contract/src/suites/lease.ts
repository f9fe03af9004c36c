import { describe, expect } from 'vitest';
import {
  enqueueRunning,
  fenceOf,
  LEASE_EXPIRED_ERROR,
  LEASE_MS,
  mustGet,
  newJob,
  newLeaseToken,
  OTHER_OWNER,
  pendingRecord,
  T0,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

export function leaseSuite({ test }: ContractContext): void {
  describe('lease', () => {
    test('heartbeat extends only the leases whose token still matches', async ({ storage }) => {
      const mine = await enqueueRunning(storage);
      const wrongToken = await enqueueRunning(storage);
      const theirs = await enqueueRunning(storage, {}, { ownerId: OTHER_OWNER });
      const pending = newJob();
      await storage.enqueue(pending);
      const finished = await enqueueRunning(storage);
      await storage.ack({ ...fenceOf(finished), kind: 'success', result: 'null', now: T0 + 1 });

      const extended = await storage.heartbeat({
        leaseExpiresAt: T0 + 2 * LEASE_MS,
        jobs: [
          fenceOf(mine),
          { id: wrongToken.id, leaseToken: newLeaseToken() },
          // Another owner's job under our token: the token is checked per job.
          { id: theirs.id, leaseToken: mine.leaseToken! },
          { id: pending.id, leaseToken: newLeaseToken() },
          { id: finished.id, leaseToken: finished.leaseToken! },
          { id: '00000000-0000-4000-8000-000000000000', leaseToken: newLeaseToken() },
        ],
      });
      expect(extended).toEqual([mine.id]);
      expect(await storage.getJob(mine.id)).toEqual({ ...mine, leaseExpiresAt: T0 + 2 * LEASE_MS });
      expect(await storage.getJob(wrongToken.id)).toEqual(wrongToken);
      expect(await storage.getJob(theirs.id)).toEqual(theirs);
      expect(await storage.getJob(pending.id)).toEqual(pendingRecord(pending));
    });

    test('heartbeat with no jobs returns an empty list', async ({ storage }) => {
      expect(await storage.heartbeat({ leaseExpiresAt: T0 + LEASE_MS, jobs: [] })).toEqual([]);
    });

    test('sweeping an expired lease puts the job back to pending now with the error recorded', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage, { maxAttempts: 3 });
      const now = running.leaseExpiresAt! + 1;
      const swept = await storage.sweepExpiredLeases({ now, error: LEASE_EXPIRED_ERROR });
      expect(swept).toEqual({ requeued: [await mustGet(storage, running.id)], dead: [] });
      expect(await storage.getJob(running.id)).toEqual({
        ...running,
        status: 'pending',
        runAt: now,
        error: LEASE_EXPIRED_ERROR,
        ownerId: null,
        leaseExpiresAt: null,
      });
      // The requeued job is claimable again, as its next attempt.
      const again = await storage.claim({
        leaseToken: newLeaseToken(),
        names: [running.name],
        ownerId: OTHER_OWNER,
        limit: 1,
        now,
        leaseExpiresAt: now + LEASE_MS,
      });
      expect(again.map((j) => [j.id, j.attempt, j.ownerId])).toEqual([
        [running.id, 2, OTHER_OWNER],
      ]);
    });

    test('sweeping an expired lease on the last attempt makes the job dead', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage, { maxAttempts: 1 });
      const now = running.leaseExpiresAt! + 1;
      const swept = await storage.sweepExpiredLeases({ now, error: LEASE_EXPIRED_ERROR });
      expect(swept).toEqual({ requeued: [], dead: [await mustGet(storage, running.id)] });
      expect(await storage.getJob(running.id)).toEqual({
        ...running,
        status: 'dead',
        error: LEASE_EXPIRED_ERROR,
        ownerId: null,
        leaseExpiresAt: null,
        completedAt: now,
      });
    });

    test('sweeping leaves leases that expire at or after now untouched', async ({ storage }) => {
      const atNow = await enqueueRunning(storage, {}, { leaseExpiresAt: T0 + 1_000 });
      const later = await enqueueRunning(storage, {}, { leaseExpiresAt: T0 + 5_000 });
      const pending = newJob({ runAt: T0 - 10_000 });
      await storage.enqueue(pending);
      const swept = await storage.sweepExpiredLeases({
        now: T0 + 1_000,
        error: LEASE_EXPIRED_ERROR,
      });
      expect(swept).toEqual({ requeued: [], dead: [] });
      expect(await storage.getJob(atNow.id)).toEqual(atNow);
      expect(await storage.getJob(later.id)).toEqual(later);
      expect(await storage.getJob(pending.id)).toEqual(pendingRecord(pending));
    });

    test('sweeping sorts several expired jobs into requeued and dead', async ({ storage }) => {
      const retryable = await enqueueRunning(storage, { maxAttempts: 2 });
      const lastAttempt = await enqueueRunning(storage, { maxAttempts: 1 });
      const alive = await enqueueRunning(storage, {}, { leaseExpiresAt: T0 + 10 * LEASE_MS });
      const swept = await storage.sweepExpiredLeases({
        now: T0 + LEASE_MS + 1,
        error: LEASE_EXPIRED_ERROR,
      });
      expect(swept).toEqual({
        requeued: [await mustGet(storage, retryable.id)],
        dead: [await mustGet(storage, lastAttempt.id)],
      });
      expect((await mustGet(storage, alive.id)).status).toBe('running');
    });

    test('after its lease was swept the old owner can no longer heartbeat', async ({ storage }) => {
      const running = await enqueueRunning(storage);
      await storage.sweepExpiredLeases({ now: T0 + LEASE_MS + 1, error: LEASE_EXPIRED_ERROR });
      const extended = await storage.heartbeat({
        leaseExpiresAt: T0 + 3 * LEASE_MS,
        jobs: [fenceOf(running)],
      });
      expect(extended).toEqual([]);
      expect((await mustGet(storage, running.id)).leaseExpiresAt).toBeNull();
    });
  });
}
