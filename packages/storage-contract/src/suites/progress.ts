import { describe, expect } from 'vitest';
import { recordEvents } from '../event-log.ts';
import {
  claimExactly,
  enqueueRunning,
  fenceOf,
  LEASE_EXPIRED_ERROR,
  mustGet,
  newJob,
  newLeaseToken,
  T0,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** The engine's largest progress: 8192 bytes serialized. */
const LARGEST = JSON.stringify('x'.repeat(8190));

export function progressSuite({ test, capabilities }: ContractContext): void {
  describe('progress', () => {
    test('setProgress stores the value on the running job and announces it', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage);
      const log = await recordEvents(storage);
      expect(await storage.setProgress({ ...fenceOf(running), progress: '0.5', now: T0 + 1 })).toBe(
        true,
      );
      expect(await storage.getJob(running.id)).toEqual({ ...running, progress: '0.5' });
      await log.waitFor({
        type: 'progress',
        jobId: running.id,
        name: running.name,
        progress: '0.5',
      });
      // The latest report wins.
      await storage.setProgress({ ...fenceOf(running), progress: '{"done":3}', now: T0 + 2 });
      expect((await mustGet(storage, running.id)).progress).toBe('{"done":3}');
      await log.unsubscribe();
    });

    test('setProgress is fenced: a wrong token, a job not running or unknown change nothing', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage);
      await storage.setProgress({ ...fenceOf(running), progress: '1', now: T0 + 1 });
      const pending = newJob();
      await storage.enqueue(pending);
      const finished = await enqueueRunning(storage);
      await storage.ack({ ...fenceOf(finished), kind: 'success', result: '1', now: T0 + 1 });
      const log = await recordEvents(storage);

      const wrongToken = { id: running.id, leaseToken: newLeaseToken() };
      expect(await storage.setProgress({ ...wrongToken, progress: '2', now: T0 + 2 })).toBe(false);
      const stale = { id: pending.id, leaseToken: running.leaseToken! };
      expect(await storage.setProgress({ ...stale, progress: '2', now: T0 + 2 })).toBe(false);
      expect(
        await storage.setProgress({ ...fenceOf(running), id: UNKNOWN_ID, progress: '2', now: T0 }),
      ).toBe(false);
      expect(
        await storage.setProgress({ ...fenceOf(running), id: 'nope', progress: '2', now: T0 }),
      ).toBe(false);
      const finishedBefore = await mustGet(storage, finished.id);
      expect(
        await storage.setProgress({
          id: finished.id,
          leaseToken: finished.leaseToken!,
          progress: '2',
          now: T0 + 2,
        }),
      ).toBe(false);

      expect((await mustGet(storage, running.id)).progress).toBe('1');
      expect((await mustGet(storage, pending.id)).progress).toBeNull();
      expect(await storage.getJob(finished.id)).toEqual(finishedBefore);
      // A marker report after the refused ones: once it arrives, an event for any of them
      // would have arrived too.
      await storage.setProgress({ ...fenceOf(running), progress: '3', now: T0 + 3 });
      await log.waitFor({ type: 'progress', jobId: running.id, name: running.name, progress: '3' });
      expect(log.events).toEqual([
        { type: 'progress', jobId: running.id, name: running.name, progress: '3' },
      ]);
      await log.unsubscribe();
    });

    test('progress is kept when the attempt ends, across retries, until the next report', async ({
      storage,
    }) => {
      const running = await enqueueRunning(storage, { maxAttempts: 3 });
      await storage.setProgress({ ...fenceOf(running), progress: '0.25', now: T0 + 1 });
      await storage.ack({
        ...fenceOf(running),
        kind: 'retry',
        error: LEASE_EXPIRED_ERROR,
        runAt: T0 + 2,
        now: T0 + 2,
      });
      expect((await mustGet(storage, running.id)).progress).toBe('0.25');
      const second = await claimExactly(storage, running, { now: T0 + 3 });
      expect((await mustGet(storage, second.id)).progress).toBe('0.25');
      await storage.setProgress({ ...fenceOf(second), progress: '0.75', now: T0 + 4 });
      await storage.ack({
        ...fenceOf(second),
        kind: 'dead',
        error: LEASE_EXPIRED_ERROR,
        now: T0 + 5,
      });
      expect((await mustGet(storage, running.id)).progress).toBe('0.75');
      // retry() of a dead job runs it again from scratch, but what it reported stays visible
      // until its next report.
      expect(await storage.retry(running.id, T0 + 6)).toBe(true);
      expect((await mustGet(storage, running.id)).progress).toBe('0.75');

      const succeeded = await enqueueRunning(storage);
      await storage.setProgress({ ...fenceOf(succeeded), progress: '1', now: T0 + 1 });
      await storage.ack({ ...fenceOf(succeeded), kind: 'success', result: '"ok"', now: T0 + 2 });
      expect((await mustGet(storage, succeeded.id)).progress).toBe('1');
    });

    test('the largest progress is stored whole; an event that carries it carries it whole', async ({
      storage,
    }) => {
      // An adapter may leave a large value out of its event (a PostgreSQL notification is
      // under 8000 bytes): the listener then reads the job.
      const running = await enqueueRunning(storage);
      const progress: string[] = [];
      const unsubscribe = await storage.subscribe((event) => {
        if (event.type === 'progress' && event.jobId === running.id) {
          progress.push(event.progress ?? '(read the job)');
        }
      });
      await storage.setProgress({ ...fenceOf(running), progress: LARGEST, now: T0 + 1 });
      expect((await mustGet(storage, running.id)).progress).toBe(LARGEST);
      await storage.setProgress({ ...fenceOf(running), progress: '"small"', now: T0 + 2 });
      const log = await recordEvents(storage);
      await storage.setProgress({ ...fenceOf(running), progress: '"marker"', now: T0 + 3 });
      await log.waitFor({
        type: 'progress',
        jobId: running.id,
        name: running.name,
        progress: '"marker"',
      });
      await log.unsubscribe();
      await unsubscribe();
      expect(progress.slice(1)).toEqual(['"small"', '"marker"']);
      expect([LARGEST, '(read the job)']).toContain(progress[0]);
    });

    describe.skipIf(!capabilities.crossProcessNotify)(
      'across instances (only with capabilities.crossProcessNotify)',
      () => {
        test('another instance on the same database hears progress', async ({
          storage,
          openAnother,
        }) => {
          const other = await openAnother();
          const log = await recordEvents(other);
          const running = await enqueueRunning(storage);
          await storage.setProgress({ ...fenceOf(running), progress: '[1,2]', now: T0 + 1 });
          await log.waitFor({
            type: 'progress',
            jobId: running.id,
            name: running.name,
            progress: '[1,2]',
          });
          expect((await mustGet(other, running.id)).progress).toBe('[1,2]');
          await log.unsubscribe();
        });
      },
    );
  });
}
