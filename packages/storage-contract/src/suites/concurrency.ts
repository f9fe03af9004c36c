import { describe, expect } from 'vitest';
import { LEASE_MS, newJob, newLeaseToken, T0, uniqueName } from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

const JOBS = 200;
const CLAIMERS = 4;

export function concurrencySuite({ test }: ContractContext): void {
  describe('concurrency', () => {
    test('parallel claimers on separate instances never share a job and together take all', async ({
      storage,
      openAnother,
    }) => {
      const name = uniqueName();
      const ids = new Set<string>();
      for (let i = 0; i < JOBS; i++) {
        const job = newJob({ name, createdAt: T0 + i });
        ids.add(job.id);
        await storage.enqueue(job);
      }
      const instances = [storage];
      for (let i = 1; i < CLAIMERS; i++) instances.push(await openAnother());

      // Each claimer loops until it finds nothing, with small batches so they interleave.
      const perClaimer = await Promise.all(
        instances.map(async (instance, i) => {
          const mine: string[] = [];
          for (;;) {
            const claimed = await instance.claim({
              leaseToken: newLeaseToken(),
              names: [name],
              ownerId: `claimer-${i}`,
              limit: 7,
              now: T0 + JOBS,
              leaseExpiresAt: T0 + JOBS + LEASE_MS,
            });
            if (claimed.length === 0) return mine;
            for (const job of claimed) {
              expect(job.ownerId).toBe(`claimer-${i}`);
              mine.push(job.id);
            }
          }
        }),
      );

      const all = perClaimer.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all.sort()).toEqual([...ids].sort());
      const running = await storage.listJobs({ name, status: 'running', limit: JOBS + 1 });
      expect(running).toHaveLength(JOBS);
      expect(running.every((job) => job.attempt === 1)).toBe(true);
    });
  });
}
