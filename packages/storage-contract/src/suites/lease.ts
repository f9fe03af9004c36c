import { describe, expect } from 'vitest';
import {
  enqueueRunning,
  fenceOf,
  LEASE_EXPIRED_ERROR,
  LEASE_MS,
  lostLeaseAck,
  mustGet,
  newJob,
  newLeaseToken,
  OTHER_OWNER,
  pendingRecord,
  sweepExpired,
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

    test('listing expired leases returns running jobs whose lease expired before now, soonest first', async ({
      storage,
    }) => {
      const second = await enqueueRunning(storage, {}, { leaseExpiresAt: T0 + 600 });
      const first = await enqueueRunning(storage, {}, { leaseExpiresAt: T0 + 500 });
      const atNow = await enqueueRunning(storage, {}, { leaseExpiresAt: T0 + 1_000 });
      const later = await enqueueRunning(storage, {}, { leaseExpiresAt: T0 + 5_000 });
      const pending = newJob({ runAt: T0 - 10_000 });
      await storage.enqueue(pending);
      const finished = await enqueueRunning(storage, {}, { leaseExpiresAt: T0 + 100 });
      await storage.ack({ ...fenceOf(finished), kind: 'success', result: '1', now: T0 + 1 });

      // A lease expiring exactly now is still held: only strictly past leases are listed.
      const input = { now: T0 + 1_000, limit: 10 };
      expect(await storage.listExpiredLeases(input)).toEqual([first, second]);
      expect(await storage.listExpiredLeases({ ...input, limit: 1 })).toEqual([first]);
      // A read: nothing changed.
      for (const job of [first, second, atNow, later]) {
        expect(await storage.getJob(job.id)).toEqual(job);
      }
      expect(await storage.getJob(pending.id)).toEqual(pendingRecord(pending));
    });

    test('a lost attempt ended with a retry ack fenced on its expiry is pending now with the error recorded', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage, { maxAttempts: 3 });
      const now = running.leaseExpiresAt! + 1;
      const [listed] = await storage.listExpiredLeases({ now, limit: 10 });
      expect(listed).toEqual(running);
      expect(await storage.ack(lostLeaseAck(listed!, now))).toBe(true);
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

    test('a lost last attempt ended with a dead ack fenced on its expiry is dead', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage, { maxAttempts: 1 });
      const now = running.leaseExpiresAt! + 1;
      expect(await sweepExpired(storage, now)).toEqual([running.id]);
      expect(await storage.getJob(running.id)).toEqual({
        ...running,
        status: 'dead',
        error: LEASE_EXPIRED_ERROR,
        ownerId: null,
        leaseExpiresAt: null,
        completedAt: now,
      });
    });

    test('acks fenced on lease expiry are rejected while the lease is held', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage, {}, { leaseExpiresAt: T0 + 1_000 });
      // Expiring exactly at the bound is not expired before it.
      for (const now of [T0 + 1_000, T0 + 500]) {
        const fence = { ...fenceOf(running), leaseExpiredBefore: now };
        for (const ack of [
          { ...fence, kind: 'success', result: '1', now },
          { ...fence, kind: 'retry', error: LEASE_EXPIRED_ERROR, runAt: now, now },
          { ...fence, kind: 'dead', error: LEASE_EXPIRED_ERROR, now },
          { ...fence, kind: 'release', attempt: 0, now },
        ] as const) {
          expect(await storage.ack(ack), `${ack.kind} at ${now - T0}`).toBe(false);
          expect(await storage.ackMany([ack]), `${ack.kind} in ackMany`).toEqual([false]);
        }
      }
      expect(await storage.getJob(running.id)).toEqual(running);
    });

    test('a heartbeat that lands between listing an expired lease and its ack wins', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage);
      const other = await enqueueRunning(storage);
      const now = T0 + LEASE_MS + 1;
      const listed = await storage.listExpiredLeases({ now, limit: 10 });
      expect(listed.map((j) => j.id).sort()).toEqual([running.id, other.id].sort());
      // The owner was only slow: its heartbeat commits after the sweeper listed the job.
      expect(
        await storage.heartbeat({ jobs: [fenceOf(running)], leaseExpiresAt: now + LEASE_MS }),
      ).toEqual([running.id]);
      const answers = await storage.ackMany(listed.map((job) => lostLeaseAck(job, now)));
      expect(answers).toEqual(listed.map((job) => job.id === other.id));
      expect(await storage.getJob(running.id)).toEqual({
        ...running,
        leaseExpiresAt: now + LEASE_MS,
      });
      expect((await mustGet(storage, other.id)).status).toBe('pending');
    });

    test('two sweepers ending the same lost attempt: exactly one ack applies', async ({
      storage,
      openAnother,
    }) => {
      const other = await openAnother();
      const jobs = [];
      for (let i = 0; i < 5; i++) jobs.push(await enqueueRunning(storage));
      const now = T0 + LEASE_MS + 1;
      const [mine, theirs] = await Promise.all([
        sweepExpired(storage, now),
        sweepExpired(other, now),
      ]);
      expect([...mine, ...theirs].sort()).toEqual(jobs.map((j) => j.id).sort());
      for (const job of jobs) expect((await mustGet(storage, job.id)).attempt).toBe(1);
    });

    test('after its lost attempt was ended the old owner can no longer heartbeat', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage);
      expect(await sweepExpired(storage, T0 + LEASE_MS + 1)).toEqual([running.id]);
      const extended = await storage.heartbeat({
        leaseExpiresAt: T0 + 3 * LEASE_MS,
        jobs: [fenceOf(running)],
      });
      expect(extended).toEqual([]);
      expect((await mustGet(storage, running.id)).leaseExpiresAt).toBeNull();
    });
  });
}
