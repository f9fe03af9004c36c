import { describe, expect } from 'vitest';
import { enqueueRunning, fenceOf, LEASE_EXPIRED_ERROR, newJob, T0 } from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

const CUTOFF = T0 + 1_000;

export function purgeSuite({ test }: ContractContext): void {
  describe('purge', () => {
    test('purge deletes only final jobs completed before the cutoff', async ({ storage }) => {
      const oldSuccess = await enqueueRunning(storage);
      await storage.ack({ ...fenceOf(oldSuccess), kind: 'success', result: '1', now: CUTOFF - 1 });
      const oldDead = await enqueueRunning(storage);
      await storage.ack({
        ...fenceOf(oldDead),
        kind: 'dead',
        error: LEASE_EXPIRED_ERROR,
        now: CUTOFF - 500,
      });
      const oldCancelled = newJob();
      await storage.enqueue(oldCancelled);
      await storage.cancel(oldCancelled.id, CUTOFF - 1);

      const atCutoff = await enqueueRunning(storage);
      await storage.ack({ ...fenceOf(atCutoff), kind: 'success', result: '1', now: CUTOFF });
      const recent = newJob();
      await storage.enqueue(recent);
      await storage.cancel(recent.id, CUTOFF + 1);
      const pending = newJob({ createdAt: T0 - 10_000, runAt: T0 - 10_000 });
      await storage.enqueue(pending);
      const running = await enqueueRunning(storage, { createdAt: T0 - 10_000 });

      expect(await storage.purge({ completedBefore: CUTOFF, limit: 100 })).toBe(3);
      for (const gone of [oldSuccess.id, oldDead.id, oldCancelled.id]) {
        expect(await storage.getJob(gone)).toBeUndefined();
      }
      const kept = (await storage.listJobs({})).map((j) => j.id).sort();
      expect(kept).toEqual([atCutoff.id, recent.id, pending.id, running.id].sort());
      expect(await storage.purge({ completedBefore: CUTOFF, limit: 100 })).toBe(0);
    });

    test('purge deletes at most limit jobs per call', async ({ storage }) => {
      for (let i = 0; i < 5; i++) {
        const job = newJob();
        await storage.enqueue(job);
        await storage.cancel(job.id, T0 + i);
      }
      expect(await storage.purge({ completedBefore: CUTOFF, limit: 2 })).toBe(2);
      expect(await storage.listJobs({})).toHaveLength(3);
      expect(await storage.purge({ completedBefore: CUTOFF, limit: 2 })).toBe(2);
      expect(await storage.purge({ completedBefore: CUTOFF, limit: 2 })).toBe(1);
      expect(await storage.listJobs({})).toEqual([]);
    });
  });
}
