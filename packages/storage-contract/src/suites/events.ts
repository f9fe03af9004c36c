import { describe, expect } from 'vitest';
import { recordEvents } from '../event-log.ts';
import {
  claimExactly,
  enqueueRunning,
  fenceOf,
  LEASE_EXPIRED_ERROR,
  LEASE_MS,
  mustGet,
  newJob,
  newLeaseToken,
  sweepExpired,
  T0,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

export function eventsSuite({ test, capabilities }: ContractContext): void {
  describe('events', () => {
    test('enqueue announces the job as ready with its name and runAt, a dedup does not', async ({
      storage,
    }) => {
      const log = await recordEvents(storage);
      const job = newJob({ idempotencyKey: 'once', runAt: T0 + 5_000 });
      await storage.enqueue(job);
      await storage.enqueue(newJob({ name: job.name, idempotencyKey: 'once' }));
      // A marker enqueued after the duplicate: once it arrives, a ready for the duplicate
      // would have arrived too, so no fixed sleep is needed to prove there was none.
      const marker = newJob();
      await storage.enqueue(marker);
      await log.waitFor({ type: 'ready', name: marker.name, runAt: marker.runAt });
      expect(log.events).toEqual([
        { type: 'ready', name: job.name, runAt: T0 + 5_000 },
        { type: 'ready', name: marker.name, runAt: marker.runAt },
      ]);
      await log.unsubscribe();
    });

    test('a retry ack and a release announce the job as ready again', async ({ storage }) => {
      const retried = await enqueueRunning(storage);
      const released = await enqueueRunning(storage);
      const log = await recordEvents(storage);
      await storage.ack({
        ...fenceOf(retried),
        kind: 'retry',
        error: LEASE_EXPIRED_ERROR,
        runAt: T0 + 9_000,
        now: T0 + 1,
      });
      await storage.ack({ ...fenceOf(released), kind: 'release', attempt: 0, now: T0 + 2 });
      await log.waitFor({ type: 'ready', name: released.name, runAt: T0 + 2 });
      expect(log.events).toEqual([
        { type: 'ready', name: retried.name, runAt: T0 + 9_000 },
        { type: 'ready', name: released.name, runAt: T0 + 2 },
      ]);
      await log.unsubscribe();
    });

    test('retrying a dead job announces it as ready', async ({ storage }) => {
      const died = await enqueueRunning(storage);
      await storage.ack({
        ...fenceOf(died),
        kind: 'dead',
        error: LEASE_EXPIRED_ERROR,
        now: T0 + 1,
      });
      const log = await recordEvents(storage);
      await storage.retry(died.id, T0 + 50);
      await log.waitFor({ type: 'ready', name: died.name, runAt: T0 + 50 });
      expect(log.events).toEqual([{ type: 'ready', name: died.name, runAt: T0 + 50 }]);
      await log.unsubscribe();
    });

    test('success, dead and cancel announce the job as finished with its status', async ({
      storage,
    }) => {
      const succeeded = await enqueueRunning(storage);
      const died = await enqueueRunning(storage);
      const cancelled = newJob();
      await storage.enqueue(cancelled);
      const log = await recordEvents(storage);
      await storage.ack({ ...fenceOf(succeeded), kind: 'success', result: '1', now: T0 + 1 });
      await storage.ack({
        ...fenceOf(died),
        kind: 'dead',
        error: LEASE_EXPIRED_ERROR,
        now: T0 + 2,
      });
      await storage.cancel(cancelled.id, T0 + 3);
      await log.waitFor({ type: 'finished', jobId: cancelled.id, status: 'cancelled' });
      expect(log.events).toEqual([
        { type: 'finished', jobId: succeeded.id, status: 'success' },
        { type: 'finished', jobId: died.id, status: 'dead' },
        { type: 'finished', jobId: cancelled.id, status: 'cancelled' },
      ]);
      await log.unsubscribe();
    });

    test('a finished event that carries an outcome carries the stored result and error', async ({
      storage,
    }) => {
      // Adapters may send the outcome along (a waiter then needs no read); what they send
      // must be what a read would return, a success's earlier failed attempt included.
      const retried = await enqueueRunning(storage);
      await storage.ack({
        ...fenceOf(retried),
        kind: 'retry',
        error: LEASE_EXPIRED_ERROR,
        runAt: T0,
        now: T0,
      });
      const succeeded = await claimExactly(storage, retried, { now: T0 + 1 });
      const died = await enqueueRunning(storage);
      const batched = [await enqueueRunning(storage), await enqueueRunning(storage)];
      const log = await recordEvents(storage);
      await storage.ack({ ...fenceOf(succeeded), kind: 'success', result: '"ok"', now: T0 + 2 });
      await storage.ack({
        ...fenceOf(died),
        kind: 'dead',
        error: LEASE_EXPIRED_ERROR,
        now: T0 + 3,
      });
      await storage.ackMany(
        batched.map((job, i) => ({
          ...fenceOf(job),
          kind: 'success',
          result: `${i}`,
          now: T0 + 4,
        })),
      );
      const finished = [
        [succeeded, 'success'],
        [died, 'dead'],
        ...batched.map((job) => [job, 'success'] as const),
      ] as const;
      for (const [job, status] of finished) {
        await log.waitFor({ type: 'finished', jobId: job.id, status });
        const outcome = log.outcomes.get(job.id);
        if (outcome === undefined) continue;
        const stored = await mustGet(storage, job.id);
        expect(outcome).toEqual({ result: stored.result, error: stored.error });
      }
      await log.unsubscribe();
    });

    test('ending lost attempts announces requeued jobs as ready and dead ones as finished', async ({
      storage,
    }) => {
      const requeued = await enqueueRunning(storage, { maxAttempts: 2 });
      const died = await enqueueRunning(storage, { maxAttempts: 1 });
      const log = await recordEvents(storage);
      const now = T0 + LEASE_MS + 1;
      expect((await sweepExpired(storage, now)).sort()).toEqual([requeued.id, died.id].sort());
      await log.waitFor({ type: 'ready', name: requeued.name, runAt: now });
      await log.waitFor({ type: 'finished', jobId: died.id, status: 'dead' });
      expect(log.events).toHaveLength(2);
      await log.unsubscribe();
    });

    test('a rejected ack announces nothing', async ({ storage }) => {
      const running = await enqueueRunning(storage);
      const log = await recordEvents(storage);
      expect(
        await storage.ack({
          ...fenceOf(running),
          leaseToken: 'a-token-nobody-holds',
          kind: 'success',
          result: '1',
          now: T0,
        }),
      ).toBe(false);
      const marker = newJob();
      await storage.enqueue(marker);
      await log.waitFor({ type: 'ready', name: marker.name, runAt: marker.runAt });
      expect(log.events).toEqual([{ type: 'ready', name: marker.name, runAt: marker.runAt }]);
      await log.unsubscribe();
    });

    test('an unsubscribed listener receives nothing more', async ({ storage }) => {
      const stopped = await recordEvents(storage);
      const still = await recordEvents(storage);
      await stopped.unsubscribe();
      const job = newJob();
      await storage.enqueue(job);
      await still.waitFor({ type: 'ready', name: job.name, runAt: job.runAt });
      expect(stopped.events).toEqual([]);
      await still.unsubscribe();
    });

    describe.skipIf(!capabilities.crossProcessNotify)(
      'across instances (only with capabilities.crossProcessNotify)',
      () => {
        test('another instance on the same database hears ready and finished', async ({
          storage,
          openAnother,
        }) => {
          const other = await openAnother();
          const log = await recordEvents(other);
          const job = newJob();
          await storage.enqueue(job);
          await log.waitFor({ type: 'ready', name: job.name, runAt: job.runAt });
          const [running] = await storage.claim({
            leaseToken: newLeaseToken(),
            names: [job.name],
            ownerId: 'worker-a',
            limit: 1,
            now: T0,
            leaseExpiresAt: T0 + LEASE_MS,
          });
          await storage.ack({ ...fenceOf(running!), kind: 'success', result: '1', now: T0 + 1 });
          await log.waitFor({ type: 'finished', jobId: job.id, status: 'success' });
          expect(log.events).toEqual([
            { type: 'ready', name: job.name, runAt: job.runAt },
            { type: 'finished', jobId: job.id, status: 'success' },
          ]);
          await log.unsubscribe();
        });
      },
    );
  });
}
