import { describe, expect } from 'vitest';
import { newJob, pendingRecord } from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

export function lifecycleSuite({ test }: ContractContext): void {
  describe('lifecycle', () => {
    test('calling init a second time keeps the schema and the jobs already stored', async ({
      storage,
    }) => {
      const job = newJob();
      await storage.enqueue(job);
      await storage.init();
      expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
      const second = newJob();
      expect((await storage.enqueue(second)).deduplicated).toBe(false);
      expect(await storage.getJob(second.id)).toEqual(pendingRecord(second));
    });

    test('several instances on one database can run init at the same time', async ({
      storage,
      openAnother,
    }) => {
      const others = await Promise.all([openAnother(), openAnother()]);
      await Promise.all([storage.init(), ...others.map((other) => other.init())]);
      const job = newJob();
      await others[0]!.enqueue(job);
      expect(await others[1]!.getJob(job.id)).toEqual(pendingRecord(job));
      expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
    });
  });
}
