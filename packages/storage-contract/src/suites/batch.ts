import { describe, expect } from 'vitest';
import { recordEvents } from '../event-log.ts';
import {
  enqueueRunning,
  fenceOf,
  LEASE_EXPIRED_ERROR,
  mustGet,
  newJob,
  newLeaseToken,
  pendingRecord,
  T0,
  uniqueName,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

/** `enqueueMany` and `ackMany`: the batched forms of `enqueue` and `ack`. */
export function batchSuite({ test }: ContractContext): void {
  describe('enqueueMany', () => {
    test('enqueueMany stores every job and answers in input order', async ({ storage }) => {
      const name = uniqueName();
      const jobs = Array.from({ length: 25 }, (_, i) =>
        newJob({ name, args: JSON.stringify([i]), runAt: T0 + (i % 3), createdAt: T0 + i }),
      );
      const results = await storage.enqueueMany(jobs);
      expect(results).toEqual(
        jobs.map((job) => ({ job: pendingRecord(job), deduplicated: false })),
      );
      for (const job of jobs) expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
      const claimed = await storage.claim({
        leaseToken: newLeaseToken(),
        names: [name],
        ownerId: 'w',
        limit: 100,
        now: T0 + 10,
        leaseExpiresAt: T0 + 1000,
      });
      expect(claimed).toHaveLength(25);
    });

    test('a batch of one function with a parent (what fn.enqueueMany makes) keeps every field and announces its earliest runAt', async ({
      storage,
    }) => {
      // Adapters may store such a batch another way than a mixed one (PostgreSQL does).
      const parent = newJob();
      await storage.enqueue(parent);
      const log = await recordEvents(storage);
      const name = uniqueName();
      const jobs = [9, 4, 6].map((offset, i) =>
        newJob({
          name,
          args: JSON.stringify([{ i, text: 'quote " backslash \\ comma , brace }' }]),
          parentId: parent.id,
          maxAttempts: 7,
          createdAt: T0 + i,
          runAt: T0 + offset,
        }),
      );
      expect(await storage.enqueueMany(jobs)).toEqual(
        jobs.map((job) => ({ job: pendingRecord(job), deduplicated: false })),
      );
      for (const job of jobs) expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
      await log.waitFor({ type: 'ready', name, runAt: T0 + 4 });
      await log.unsubscribe();
    });

    test('enqueueMany of an empty list stores nothing', async ({ storage }) => {
      expect(await storage.enqueueMany([])).toEqual([]);
      expect(await storage.listJobs({})).toEqual([]);
    });

    test('enqueueMany deduplicates per item, against stored jobs and within the batch', async ({
      storage,
    }) => {
      const name = uniqueName();
      const existing = newJob({ name, idempotencyKey: 'a' });
      await storage.enqueue(existing);
      const again = newJob({ name, idempotencyKey: 'a' });
      const fresh = newJob({ name, idempotencyKey: 'b' });
      const twin = newJob({ name, idempotencyKey: 'b' });
      const unkeyed = newJob({ name });
      const otherName = newJob({ name: uniqueName(), idempotencyKey: 'a' });
      const results = await storage.enqueueMany([again, fresh, twin, unkeyed, otherName]);
      expect(results).toEqual([
        { job: pendingRecord(existing), deduplicated: true },
        { job: pendingRecord(fresh), deduplicated: false },
        { job: pendingRecord(fresh), deduplicated: true },
        { job: pendingRecord(unkeyed), deduplicated: false },
        { job: pendingRecord(otherName), deduplicated: false },
      ]);
      expect(await storage.getJob(again.id)).toBeUndefined();
      expect(await storage.getJob(twin.id)).toBeUndefined();
      expect(await storage.listJobs({ name })).toHaveLength(3);
    });

    test('enqueueMany returns an existing job whatever its status', async ({ storage }) => {
      const done = await enqueueRunning(storage, { idempotencyKey: 'k' });
      await storage.ack({ ...fenceOf(done), kind: 'success', result: '1', now: T0 + 1 });
      const [result] = await storage.enqueueMany([
        newJob({ name: done.name, idempotencyKey: 'k' }),
      ]);
      expect(result?.deduplicated).toBe(true);
      expect(result?.job.id).toBe(done.id);
      expect(result?.job.status).toBe('success');
    });

    test('enqueueMany announces ready for the inserted jobs, not for duplicates', async ({
      storage,
    }) => {
      const name = uniqueName();
      await storage.enqueue(newJob({ name: uniqueName('dup'), idempotencyKey: 'x' }));
      const log = await recordEvents(storage);
      const dupName = uniqueName('dup-only');
      await storage.enqueue(newJob({ name: dupName, idempotencyKey: 'y' }));
      await log.waitFor({ type: 'ready', name: dupName, runAt: T0 });
      await storage.enqueueMany([
        newJob({ name, runAt: T0 + 7 }),
        newJob({ name, runAt: T0 + 3 }),
        newJob({ name: dupName, idempotencyKey: 'y' }),
      ]);
      const marker = newJob();
      await storage.enqueue(marker);
      await log.waitFor({ type: 'ready', name: marker.name, runAt: marker.runAt });
      const ready = log.events.filter((e) => e.type === 'ready' && e.name !== marker.name);
      // At least one ready for the batch's name, at its earliest runAt at the latest; none
      // for the deduplicated item (beyond the one its own first enqueue sent).
      expect(ready.filter((e) => e.type === 'ready' && e.name === dupName)).toHaveLength(1);
      const batchReady = ready.filter((e) => e.type === 'ready' && e.name === name);
      expect(batchReady.length).toBeGreaterThan(0);
      expect(Math.min(...batchReady.map((e) => (e.type === 'ready' ? e.runAt : Infinity)))).toBe(
        T0 + 3,
      );
      await log.unsubscribe();
    });
  });

  describe('ackMany', () => {
    test('ackMany applies each outcome with its own fence and answers per item', async ({
      storage,
    }) => {
      const ok = await enqueueRunning(storage);
      const retried = await enqueueRunning(storage);
      const dead = await enqueueRunning(storage);
      const released = await enqueueRunning(storage);
      const stolen = await enqueueRunning(storage);
      const answers = await storage.ackMany([
        { ...fenceOf(ok), kind: 'success', result: '"done"', now: T0 + 10 },
        {
          ...fenceOf(retried),
          kind: 'retry',
          error: LEASE_EXPIRED_ERROR,
          runAt: T0 + 50,
          now: T0 + 10,
        },
        { ...fenceOf(dead), kind: 'dead', error: LEASE_EXPIRED_ERROR, now: T0 + 10 },
        { ...fenceOf(released), kind: 'release', attempt: 0, now: T0 + 10 },
        {
          ...fenceOf(stolen),
          leaseToken: newLeaseToken(),
          kind: 'success',
          result: '1',
          now: T0 + 10,
        },
      ]);
      expect(answers).toEqual([true, true, true, true, false]);
      expect(await mustGet(storage, ok.id)).toMatchObject({
        status: 'success',
        result: '"done"',
        completedAt: T0 + 10,
        ownerId: null,
        leaseExpiresAt: null,
      });
      expect(await mustGet(storage, retried.id)).toMatchObject({
        status: 'pending',
        runAt: T0 + 50,
        attempt: 1,
      });
      expect(await mustGet(storage, dead.id)).toMatchObject({
        status: 'dead',
        completedAt: T0 + 10,
      });
      expect(await mustGet(storage, released.id)).toMatchObject({ status: 'pending', attempt: 0 });
      expect(await mustGet(storage, stolen.id)).toMatchObject({ status: 'running', attempt: 1 });
    });

    test('ackMany of many successes commits them all and a second ackMany changes nothing', async ({
      storage,
    }) => {
      const jobs = [];
      for (let i = 0; i < 20; i++) jobs.push(await enqueueRunning(storage));
      const acks = jobs.map((job) => ({
        ...fenceOf(job),
        kind: 'success' as const,
        result: JSON.stringify(job.id),
        now: T0 + 5,
      }));
      expect(await storage.ackMany(acks)).toEqual(jobs.map(() => true));
      for (const job of jobs) {
        expect(await mustGet(storage, job.id)).toMatchObject({
          status: 'success',
          result: JSON.stringify(job.id),
        });
      }
      expect(await storage.ackMany(acks)).toEqual(jobs.map(() => false));
      expect(await storage.ackMany([])).toEqual([]);
    });

    test('ackMany announces each finished job', async ({ storage }) => {
      const a = await enqueueRunning(storage);
      const b = await enqueueRunning(storage);
      const log = await recordEvents(storage);
      await storage.ackMany([
        { ...fenceOf(a), kind: 'success', result: '1', now: T0 + 1 },
        { ...fenceOf(b), kind: 'dead', error: LEASE_EXPIRED_ERROR, now: T0 + 1 },
      ]);
      await log.waitFor({ type: 'finished', jobId: a.id, status: 'success' });
      await log.waitFor({ type: 'finished', jobId: b.id, status: 'dead' });
      await log.unsubscribe();
    });
  });
}
