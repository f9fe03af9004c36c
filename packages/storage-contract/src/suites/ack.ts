import type { AckInput, AttemptFence, JobRecord, StorageAdapter } from 'reseolio/storage';
import { describe, expect } from 'vitest';
import {
  claimExactly,
  enqueueRunning,
  fenceOf,
  LEASE_MS,
  mustGet,
  newJob,
  newLeaseToken,
  OTHER_OWNER,
  OWNER,
  sweepExpired,
  T0,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

const ERROR = JSON.stringify({ name: 'Error', message: 'card declined', code: 'E_DECLINED' });

/** One ack of each kind for `fence`, so fencing is checked for every kind, not only one. */
function everyKind(fence: AttemptFence, now: number): AckInput[] {
  return [
    { ...fence, kind: 'success', result: '"late"', now },
    { ...fence, kind: 'retry', error: ERROR, runAt: now + 1_000, now },
    { ...fence, kind: 'dead', error: ERROR, now },
    { ...fence, kind: 'release', attempt: 0, now },
  ];
}

/** Every ack in `acks` must return false and leave the job exactly as it was. */
async function expectAllRejected(storage: StorageAdapter, acks: AckInput[], before: JobRecord) {
  for (const ack of acks) {
    expect(await storage.ack(ack), `${ack.kind} ack must be fenced out`).toBe(false);
    expect(await storage.getJob(before.id)).toEqual(before);
  }
}

export function ackSuite({ test }: ContractContext): void {
  describe('ack and fencing', () => {
    test('a success ack stores the result and makes the job final', async ({ storage }) => {
      const running = await enqueueRunning(storage);
      const now = T0 + 500;
      const acked = await storage.ack({
        ...fenceOf(running),
        kind: 'success',
        result: '{"ok":1}',
        now,
      });
      expect(acked).toBe(true);
      expect(await storage.getJob(running.id)).toEqual({
        ...running,
        status: 'success',
        result: '{"ok":1}',
        ownerId: null,
        leaseExpiresAt: null,
        completedAt: now,
      });
    });

    test('a retry ack stores the error and schedules the job pending at runAt', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage);
      const now = T0 + 500;
      const acked = await storage.ack({
        ...fenceOf(running),
        kind: 'retry',
        error: ERROR,
        runAt: now + 2_000,
        now,
      });
      expect(acked).toBe(true);
      const expected = {
        ...running,
        status: 'pending',
        error: ERROR,
        runAt: now + 2_000,
        ownerId: null,
        leaseExpiresAt: null,
      };
      expect(await storage.getJob(running.id)).toEqual(expected);
      // Not claimable before runAt, claimable at runAt as the next attempt.
      const input = { names: [running.name], ownerId: OWNER, limit: 1 };
      const missed = { ...input, leaseToken: newLeaseToken() };
      expect(
        await storage.claim({ ...missed, now: now + 1_999, leaseExpiresAt: now + LEASE_MS }),
      ).toEqual([]);
      const again = await storage.claim({
        leaseToken: newLeaseToken(),
        ...input,
        now: now + 2_000,
        leaseExpiresAt: now + LEASE_MS,
      });
      expect(again.map((j) => [j.id, j.attempt])).toEqual([[running.id, 2]]);
    });

    test('a dead ack stores the error and makes the job final', async ({ storage }) => {
      const running = await enqueueRunning(storage);
      const now = T0 + 500;
      expect(await storage.ack({ ...fenceOf(running), kind: 'dead', error: ERROR, now })).toBe(
        true,
      );
      expect(await storage.getJob(running.id)).toEqual({
        ...running,
        status: 'dead',
        error: ERROR,
        ownerId: null,
        leaseExpiresAt: null,
        completedAt: now,
      });
    });

    test('a release ack hands the job back pending now with the attempt count it gives', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage, { runAt: T0 - 5_000 });
      const now = T0 + 500;
      // The engine gives back the attempt the claim counted: 1 - 1.
      expect(await storage.ack({ ...fenceOf(running), kind: 'release', attempt: 0, now })).toBe(
        true,
      );
      expect(await storage.getJob(running.id)).toEqual({
        ...running,
        status: 'pending',
        attempt: 0,
        runAt: now,
        ownerId: null,
        leaseExpiresAt: null,
      });
      const again = await storage.claim({
        leaseToken: newLeaseToken(),
        names: [running.name],
        ownerId: OTHER_OWNER,
        limit: 1,
        now,
        leaseExpiresAt: now + LEASE_MS,
      });
      expect(again.map((j) => [j.id, j.attempt])).toEqual([[running.id, 1]]);
    });

    test('a release ack stores the attempt it is given, not a count of its own', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage);
      expect(
        await storage.ack({ ...fenceOf(running), kind: 'release', attempt: 1, now: T0 + 1 }),
      ).toBe(true);
      expect(await mustGet(storage, running.id)).toMatchObject({ status: 'pending', attempt: 1 });
    });

    test('acks quoting another lease token are rejected and change nothing', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage);
      const wrong = { ...fenceOf(running), leaseToken: newLeaseToken() };
      await expectAllRejected(storage, everyKind(wrong, T0 + 1), running);
    });

    test('a claim writes the token it is given, and every claim of a job writes its own', async ({
      storage,
    }) => {
      const first = await enqueueRunning(storage, {}, { leaseToken: 'token-one' });
      expect(first.leaseToken).toBe('token-one');
      expect((await mustGet(storage, first.id)).leaseToken).toBe('token-one');
      await storage.ack({ ...fenceOf(first), kind: 'release', attempt: 0, now: T0 + 1 });
      // The token stays on the row after the attempt ends: it names the claim that ended it.
      expect((await mustGet(storage, first.id)).leaseToken).toBe('token-one');
      const second = await claimExactly(storage, first, { leaseToken: 'token-two', now: T0 + 1 });
      expect(second.leaseToken).toBe('token-two');
    });

    test('a late ack from a handed-back attempt changes nothing after the same owner claims it again at the same attempt', async ({
      storage,
    }) => {
      const handedBack = await enqueueRunning(storage);
      expect(
        await storage.ack({ ...fenceOf(handedBack), kind: 'release', attempt: 0, now: T0 + 1 }),
      ).toBe(true);
      // The hand-back gave the attempt back: the new claim has the same attempt number and
      // owner as the old one. Only the token tells them apart.
      const again = await claimExactly(storage, handedBack, { now: T0 + 2 });
      expect([again.attempt, again.ownerId]).toEqual([handedBack.attempt, handedBack.ownerId]);
      await expectAllRejected(storage, everyKind(fenceOf(handedBack), T0 + 3), again);
      expect(
        await storage.heartbeat({ jobs: [fenceOf(handedBack)], leaseExpiresAt: T0 + 9 }),
      ).toEqual([]);
    });

    test('a late ack from a cancelled attempt changes nothing after retry and a new claim at the same attempt', async ({
      storage,
    }) => {
      const cancelled = await enqueueRunning(storage);
      expect(await storage.cancel(cancelled.id, T0 + 1)).toBe(true);
      expect(await storage.retry(cancelled.id, T0 + 2)).toBe(true);
      const again = await claimExactly(storage, cancelled, { now: T0 + 3 });
      expect([again.attempt, again.ownerId]).toEqual([cancelled.attempt, cancelled.ownerId]);
      await expectAllRejected(storage, everyKind(fenceOf(cancelled), T0 + 4), again);
      expect(
        await storage.heartbeat({ jobs: [fenceOf(cancelled)], leaseExpiresAt: T0 + 9 }),
      ).toEqual([]);
    });

    test('a late ack from an attempt whose lease was swept changes nothing', async ({
      storage,
    }) => {
      const lost = await enqueueRunning(storage);
      const now = T0 + LEASE_MS + 1;
      expect(await sweepExpired(storage, now)).toEqual([lost.id]);
      const requeued = await mustGet(storage, lost.id);
      await expectAllRejected(storage, everyKind(fenceOf(lost), now + 1), requeued);

      // Even once another owner holds the next attempt, the lost attempt stays fenced out,
      // including if its (reused) owner id comes back.
      const [retaken] = await storage.claim({
        leaseToken: newLeaseToken(),
        names: [lost.name],
        ownerId: OWNER,
        limit: 1,
        now: now + 2,
        leaseExpiresAt: now + 2 + LEASE_MS,
      });
      expect(retaken?.attempt).toBe(2);
      await expectAllRejected(storage, everyKind(fenceOf(lost), now + 3), retaken!);
    });

    test('an ack after the job was cancelled changes nothing', async ({ storage }) => {
      const running = await enqueueRunning(storage);
      expect(await storage.cancel(running.id, T0 + 10)).toBe(true);
      const cancelled = await mustGet(storage, running.id);
      await expectAllRejected(storage, everyKind(fenceOf(running), T0 + 20), cancelled);
    });

    test('acks apply only to running jobs', async ({ storage }) => {
      const pending = newJob();
      await storage.enqueue(pending);
      const pendingRecord = await mustGet(storage, pending.id);
      await expectAllRejected(
        storage,
        everyKind({ id: pending.id, leaseToken: newLeaseToken() }, T0 + 1),
        pendingRecord,
      );

      const succeeded = await enqueueRunning(storage);
      await storage.ack({ ...fenceOf(succeeded), kind: 'success', result: '1', now: T0 + 1 });
      const final = await mustGet(storage, succeeded.id);
      await expectAllRejected(storage, everyKind(fenceOf(succeeded), T0 + 2), final);
    });

    test('an ack for an unknown job returns false', async ({ storage }) => {
      for (const ack of everyKind(
        { id: '00000000-0000-4000-8000-000000000000', leaseToken: newLeaseToken() },
        T0,
      )) {
        expect(await storage.ack(ack)).toBe(false);
      }
    });
  });
}
