import { describe, expect } from 'vitest';
import {
  claimExactly,
  enqueueRunning,
  fenceOf,
  LEASE_EXPIRED_ERROR,
  LEASE_MS,
  newJob,
  OTHER_OWNER,
  OWNER,
  sweepExpired,
  T0,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

/**
 * `listAttempts`: every ended attempt is recorded by the write that ends it, with the owner,
 * start and attempt number the job had while it ran; a running attempt is not listed.
 */
export function attemptsSuite({ test }: ContractContext): void {
  describe('attempts', () => {
    test('a failed attempt and then a successful one are two records, oldest first', async ({
      storage,
    }) => {
      const first = await enqueueRunning(storage, {}, { ownerId: OWNER, now: T0 + 10 });
      expect(await storage.listAttempts(first.id)).toEqual([]);
      const error = JSON.stringify({ name: 'Error', message: 'boom' });
      expect(
        await storage.ack({
          ...fenceOf(first),
          kind: 'retry',
          error,
          runAt: T0 + 20,
          now: T0 + 15,
        }),
      ).toBe(true);
      const second = await claimExactly(storage, first, { ownerId: OTHER_OWNER, now: T0 + 30 });
      expect(second.attempt).toBe(2);
      expect(
        await storage.ack({ ...fenceOf(second), kind: 'success', result: '"ok"', now: T0 + 40 }),
      ).toBe(true);
      expect(await storage.listAttempts(first.id)).toEqual([
        {
          jobId: first.id,
          leaseToken: first.leaseToken,
          attempt: 1,
          workerId: OWNER,
          startedAt: T0 + 10,
          endedAt: T0 + 15,
          outcome: 'failed',
          error,
        },
        {
          jobId: first.id,
          leaseToken: second.leaseToken,
          attempt: 2,
          workerId: OTHER_OWNER,
          startedAt: T0 + 30,
          endedAt: T0 + 40,
          outcome: 'success',
          error: null,
        },
      ]);
    });

    test('batched successes record one attempt each, and a fenced-out ack records none', async ({
      storage,
    }) => {
      const a = await enqueueRunning(storage, {}, { now: T0 + 1 });
      const b = await enqueueRunning(storage, {}, { now: T0 + 2 });
      const stale = { id: a.id, leaseToken: 'not-the-token' };
      expect(
        await storage.ackMany([
          { ...fenceOf(a), kind: 'success', result: '1', now: T0 + 5 },
          { ...fenceOf(b), kind: 'success', result: '2', now: T0 + 6 },
        ]),
      ).toEqual([true, true]);
      expect(await storage.ack({ ...stale, kind: 'success', result: '3', now: T0 + 7 })).toBe(
        false,
      );
      const outcomes = async (id: string) =>
        (await storage.listAttempts(id)).map((x) => [x.attempt, x.outcome, x.startedAt, x.endedAt]);
      expect(await outcomes(a.id)).toEqual([[1, 'success', T0 + 1, T0 + 5]]);
      expect(await outcomes(b.id)).toEqual([[1, 'success', T0 + 2, T0 + 6]]);
    });

    test('an attempt whose lease expired and was swept is lost, with the sweep error', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage, { maxAttempts: 2 }, { ownerId: OWNER });
      const sweptAt = T0 + LEASE_MS + 1;
      expect(await sweepExpired(storage, sweptAt)).toEqual([running.id]);
      const last = await claimExactly(storage, running, { ownerId: OTHER_OWNER, now: sweptAt });
      expect(await sweepExpired(storage, sweptAt + LEASE_MS + 1)).toEqual([running.id]);
      expect((await storage.getJob(running.id))?.status).toBe('dead');
      const attempts = await storage.listAttempts(running.id);
      expect(attempts.map((a) => [a.attempt, a.outcome, a.workerId, a.error])).toEqual([
        [1, 'lost', OWNER, LEASE_EXPIRED_ERROR],
        [2, 'lost', OTHER_OWNER, LEASE_EXPIRED_ERROR],
      ]);
      expect(attempts[1]?.leaseToken).toBe(last.leaseToken);
      expect(attempts[1]?.endedAt).toBe(sweptAt + LEASE_MS + 1);
    });

    test('suspended, released and cancelled attempts are recorded as such', async ({ storage }) => {
      const job = await enqueueRunning(storage, {}, { now: T0 + 1 });
      expect(
        await storage.ack({
          ...fenceOf(job),
          kind: 'suspend',
          attempt: 0,
          runAt: T0 + 100,
          waitingFor: '{"kind":"sleep"}',
          wake: { kind: 'time' },
          now: T0 + 2,
        }),
      ).toBe(true);
      // Resumed: the suspension gave its attempt back, so the number repeats.
      const resumed = await claimExactly(storage, job, { now: T0 + 100 });
      expect(
        await storage.ack({ ...fenceOf(resumed), kind: 'release', attempt: 0, now: T0 + 101 }),
      ).toBe(true);
      const again = await claimExactly(storage, job, { now: T0 + 102 });
      expect(await storage.cancel(job.id, T0 + 103)).toBe(true);
      // A cancel of a job that is not running ends no attempt.
      const pending = newJob();
      await storage.enqueue(pending);
      expect(await storage.cancel(pending.id, T0 + 104)).toBe(true);
      expect(await storage.listAttempts(pending.id)).toEqual([]);
      const attempts = await storage.listAttempts(job.id);
      expect(attempts.map((a) => [a.attempt, a.outcome, a.startedAt, a.endedAt])).toEqual([
        [1, 'suspended', T0 + 1, T0 + 2],
        [1, 'released', T0 + 100, T0 + 101],
        [1, 'cancelled', T0 + 102, T0 + 103],
      ]);
      expect(attempts[2]?.leaseToken).toBe(again.leaseToken);
      expect(attempts.every((a) => a.error === null)).toBe(true);
    });

    test('a purge deletes the attempts of the jobs it deletes', async ({ storage }) => {
      const done = await enqueueRunning(storage, {}, { now: T0 });
      await storage.ack({ ...fenceOf(done), kind: 'success', result: '1', now: T0 + 1 });
      expect(await storage.listAttempts(done.id)).toHaveLength(1);
      expect(await storage.purge({ completedBefore: T0 + 2, limit: 10 })).toBe(1);
      expect(await storage.listAttempts(done.id)).toEqual([]);
      expect(await storage.listAttempts('not-a-uuid')).toEqual([]);
    });
  });
}
