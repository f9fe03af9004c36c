import { describe, expect } from 'vitest';
import { enqueueRunning, fenceOf, newJob, T0, uniqueName } from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

/** What the dashboard reads: keyset pages, the newer filters, exact counts, completions. */
export function listingSuite({ test }: ContractContext): void {
  describe('listing', () => {
    test('listJobs pages by the before cursor with no gap or duplicate while rows are inserted', async ({
      storage,
    }) => {
      const name = uniqueName();
      const jobs = Array.from({ length: 23 }, (_, i) => newJob({ name, createdAt: T0 + i }));
      await storage.enqueueMany(jobs);
      const seen: string[] = [];
      let before: string | undefined;
      for (let page = 0; page < 10; page++) {
        const rows = await storage.listJobs({ name, limit: 5, ...(before ? { before } : {}) });
        seen.push(...rows.map((j) => j.id));
        // Jobs made meanwhile sort above the cursor: the pages still to read do not shift.
        await storage.enqueue(newJob({ name, createdAt: T0 + 1000 + page }));
        if (rows.length < 5) break;
        before = rows.at(-1)!.id;
      }
      const expected = jobs.map((j) => j.id).reverse();
      expect(seen).toEqual(expected);
      // A cursor that names no stored job still bounds the page (this id sorts above the
      // stored job of the same millisecond).
      const gone = newJob({ name, createdAt: T0 + 10 });
      expect((await storage.listJobs({ name, before: gone.id })).map((j) => j.id)).toEqual(
        expected.slice(12),
      );
    });

    test('listJobs and countJobs filter by idempotency key and creation time alike', async ({
      storage,
    }) => {
      const name = uniqueName();
      const jobs = [
        newJob({ name, createdAt: T0 + 10, idempotencyKey: 'k-1' }),
        newJob({ name, createdAt: T0 + 20 }),
        newJob({ name: uniqueName(), createdAt: T0 + 30, idempotencyKey: 'k-1' }),
        newJob({ name, createdAt: T0 + 40 }),
      ];
      for (const job of jobs) await storage.enqueue(job);
      const both = async (filter: Parameters<typeof storage.countJobs>[0]) => [
        (await storage.listJobs(filter)).map((j) => j.createdAt - T0),
        await storage.countJobs(filter),
      ];
      expect(await both({ idempotencyKey: 'k-1' })).toEqual([[30, 10], 2]);
      expect(await both({ name, idempotencyKey: 'k-1' })).toEqual([[10], 1]);
      expect(await both({ name, createdAfter: T0 + 20 })).toEqual([[40, 20], 2]);
      expect(await both({ name, createdBefore: T0 + 20 })).toEqual([[10], 1]);
      expect(await both({ createdAfter: T0 + 11, createdBefore: T0 + 40 })).toEqual([[30, 20], 2]);
      expect(await both({ name, createdAfter: T0 + 41 })).toEqual([[], 0]);
      expect(await both({ name, status: [] })).toEqual([[], 0]);
    });

    test('countJobs counts exactly by status, name, parent and schedule', async ({ storage }) => {
      const name = uniqueName();
      const running = await enqueueRunning(storage, { name });
      await storage.ack({ ...fenceOf(running), kind: 'dead', error: '{}', now: T0 + 1 });
      const parent = newJob({ name });
      await storage.enqueue(parent);
      await storage.enqueueMany(
        Array.from({ length: 7 }, (_, i) =>
          newJob({ name, parentId: parent.id, scheduleId: i < 3 ? 's-1' : null }),
        ),
      );
      expect(await storage.countJobs({ name })).toBe(9);
      expect(await storage.countJobs({ name, status: 'pending' })).toBe(8);
      expect(await storage.countJobs({ name, status: ['dead', 'cancelled'] })).toBe(1);
      expect(await storage.countJobs({ parentId: parent.id })).toBe(7);
      expect(await storage.countJobs({ scheduleId: 's-1' })).toBe(3);
      expect(await storage.countJobs({ parentId: 'not-a-uuid' })).toBe(0);
      expect((await storage.listJobs({ name, status: 'dead' })).map((j) => j.id)).toEqual([
        running.id,
      ]);
    });

    test('completions counts final jobs per name and bucket of completion time', async ({
      storage,
    }) => {
      const a = uniqueName('a');
      const b = uniqueName('b');
      const end = async (name: string, kind: 'success' | 'dead' | 'cancel', at: number) => {
        if (kind === 'cancel') {
          const job = newJob({ name });
          await storage.enqueue(job);
          await storage.cancel(job.id, at);
          return;
        }
        const job = await enqueueRunning(storage, { name });
        await storage.ack(
          kind === 'success'
            ? { ...fenceOf(job), kind, result: '1', now: at }
            : { ...fenceOf(job), kind, error: '{}', now: at },
        );
      };
      const minute = 60_000;
      const base = Math.floor(T0 / minute) * minute;
      await end(a, 'success', base + 1);
      await end(a, 'success', base + minute - 1);
      await end(a, 'dead', base + minute);
      await end(b, 'cancel', base + minute + 5);
      await end(a, 'success', base - 1); // before the window
      await end(a, 'success', base + 3 * minute); // at its exclusive end
      await enqueueRunning(storage, { name: a }); // not final
      const rows = (
        await storage.completions({ since: base, until: base + 3 * minute, bucketMs: minute })
      ).filter((row) => row.name === a || row.name === b);
      // 'contract:a:…' sorts before 'contract:b:…' in any collation.
      expect(rows).toEqual([
        { name: a, bucketStart: base, success: 2, dead: 0, cancelled: 0 },
        { name: a, bucketStart: base + minute, success: 0, dead: 1, cancelled: 0 },
        { name: b, bucketStart: base + minute, success: 0, dead: 0, cancelled: 1 },
      ]);
    });
  });
}
