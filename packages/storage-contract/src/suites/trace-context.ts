import { randomBytes } from 'node:crypto';
import { describe, expect } from 'vitest';
import {
  claimExactly,
  fenceOf,
  flowClaimInput,
  LEASE_MS,
  mustGet,
  newJob,
  OWNER,
  pendingRecord,
  T0,
  uniqueName,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

/** A serialized W3C trace context as the engine stores one, unique per call. */
function traceContext(): string {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return JSON.stringify({ traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'vendor=ä,x=1' });
}

/**
 * `NewJob.traceContext` is stored with the job by every insert path and returned, unchanged,
 * by every read: the engine joins each attempt's span to the enqueuer's trace from it, on
 * whichever process claims the job. `progress` is null until a handler reports one.
 */
export function traceContextSuite({ test, capabilities }: ContractContext): void {
  describe('trace context', () => {
    test('enqueue stores the trace context; the reply, getJob, listJobs and claim return it', async ({
      storage,
    }) => {
      const job = newJob({ traceContext: traceContext() });
      expect(await storage.enqueue(job)).toEqual({ job: pendingRecord(job), deduplicated: false });
      expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
      expect(await storage.listJobs({ name: job.name })).toEqual([pendingRecord(job)]);
      const claimed = await claimExactly(storage, job);
      expect(claimed.traceContext).toBe(job.traceContext);
      expect(claimed.progress).toBeNull();
    });

    test('a job enqueued without a trace context reads back with null', async ({ storage }) => {
      const job = newJob({ traceContext: null });
      await storage.enqueue(job);
      expect((await mustGet(storage, job.id)).traceContext).toBeNull();
      expect((await claimExactly(storage, job)).traceContext).toBeNull();
    });

    test('a deduplicated enqueue returns the first job with its own trace context', async ({
      storage,
    }) => {
      const first = newJob({ idempotencyKey: 'order-1', traceContext: traceContext() });
      await storage.enqueue(first);
      const again = await storage.enqueue(
        newJob({ name: first.name, idempotencyKey: 'order-1', traceContext: traceContext() }),
      );
      expect(again).toEqual({ job: pendingRecord(first), deduplicated: true });
    });

    test('enqueueMany stores each job its own trace context', async ({ storage }) => {
      const name = uniqueName();
      const jobs = [
        newJob({ name, traceContext: traceContext() }),
        newJob({ name, traceContext: null }),
        newJob({ name, traceContext: traceContext() }),
      ];
      expect(await storage.enqueueMany(jobs)).toEqual(
        jobs.map((job) => ({ job: pendingRecord(job), deduplicated: false })),
      );
      for (const job of jobs) expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
    });

    describe.skipIf(!capabilities.leasedEnqueue)('leased', () => {
      test('a leased enqueue stores the trace context', async ({ storage }) => {
        const job = newJob({ traceContext: traceContext() });
        const lease = {
          ownerId: OWNER,
          leaseToken: 'trace-lease-token',
          leaseExpiresAt: T0 + LEASE_MS,
        };
        const { job: leased } = await storage.enqueue(job, { lease });
        expect(leased.traceContext).toBe(job.traceContext);
        expect(leased.progress).toBeNull();
        expect(await storage.getJob(job.id)).toEqual(leased);
      });
    });

    test('fireSchedule stores the trace context of each job it inserts', async ({ storage }) => {
      const name = uniqueName();
      const { schedule } = await storage.upsertSchedule({
        id: `schedule:${name}`,
        name,
        cron: '* * * * *',
        timezone: 'UTC',
        args: '[]',
        catchUp: 'latest',
        overlap: 'allow',
        catchUpWindowMs: 86_400_000,
        nextRunAt: T0,
        now: T0,
      });
      const job = newJob({ name, scheduleId: schedule.id, traceContext: traceContext() });
      const fired = await storage.fireSchedule({
        id: schedule.id,
        claim: { expectedNextRunAt: T0, nextRunAt: T0 + 60_000 },
        jobs: [job],
        now: T0,
      });
      expect(fired?.jobs).toEqual([{ job: pendingRecord(job), deduplicated: false }]);
      expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
    });

    test('the trace context survives a retry, and the next claim returns it', async ({
      storage,
    }) => {
      const job = newJob({ traceContext: traceContext() });
      await storage.enqueue(job);
      const first = await claimExactly(storage, job);
      await storage.ack({ ...fenceOf(first), kind: 'retry', error: '{}', runAt: T0 + 1, now: T0 });
      const second = await claimExactly(storage, job, { now: T0 + 1 });
      expect(second.attempt).toBe(2);
      expect(second.traceContext).toBe(job.traceContext);
    });

    describe.skipIf(!capabilities.flowControl)('flow control', () => {
      test('a claim under flow rules returns the trace context', async ({ storage }) => {
        const job = newJob({ traceContext: traceContext(), concurrencyKey: 'tenant-1' });
        await storage.enqueue(job);
        const claimed = await storage.claim(
          flowClaimInput(
            [job.name],
            [{ name: job.name, concurrency: 1, rateLimit: { limit: 5, periodMs: 1_000 } }],
          ),
        );
        expect(claimed.map((j) => [j.id, j.traceContext, j.progress])).toEqual([
          [job.id, job.traceContext, null],
        ]);
      });
    });
  });
}
