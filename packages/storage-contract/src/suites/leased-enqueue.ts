import { describe, expect } from 'vitest';
import { recordEvents } from '../event-log.ts';
import {
  fenceOf,
  LEASE_EXPIRED_ERROR,
  LEASE_MS,
  mustGet,
  newJob,
  newLeaseToken,
  OTHER_OWNER,
  OWNER,
  pendingRecord,
  sweepExpired,
  T0,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

const LEASE = { ownerId: OWNER, leaseToken: 'leased-enqueue-token', leaseExpiresAt: T0 + LEASE_MS };

/**
 * `enqueue(job, { lease })`: the engine inserts a job it will run itself already leased, as
 * if a claim had taken it at `createdAt`. Everything after that (heartbeat, fenced acks,
 * expiry) must treat it exactly like a claimed job.
 */
export function leasedEnqueueSuite({ test, capabilities }: ContractContext): void {
  describe.skipIf(!capabilities.leasedEnqueue)('leased enqueue', () => {
    test('a leased enqueue stores the job running at attempt 1, owned, started at createdAt', async ({
      storage,
    }) => {
      const job = newJob({ createdAt: T0 + 3, runAt: T0 + 3 });
      const leased = {
        ...pendingRecord(job),
        status: 'running' as const,
        attempt: 1,
        ownerId: OWNER,
        leaseToken: LEASE.leaseToken,
        leaseExpiresAt: LEASE.leaseExpiresAt,
        startedAt: T0 + 3,
      };
      expect(await storage.enqueue(job, { lease: LEASE })).toEqual({
        job: leased,
        deduplicated: false,
      });
      expect(await storage.getJob(job.id)).toEqual(leased);
    });

    test('a leased job is neither announced as ready nor claimable while its lease holds', async ({
      storage,
    }) => {
      const log = await recordEvents(storage);
      const leased = newJob();
      await storage.enqueue(leased, { lease: LEASE });
      // A marker enqueued after it: once its ready arrives, one for the leased job would have.
      const marker = newJob();
      await storage.enqueue(marker);
      await log.waitFor({ type: 'ready', name: marker.name, runAt: marker.runAt });
      expect(log.events).toEqual([{ type: 'ready', name: marker.name, runAt: marker.runAt }]);
      await log.unsubscribe();
      const claimed = await storage.claim({
        leaseToken: newLeaseToken(),
        names: [leased.name],
        ownerId: OTHER_OWNER,
        limit: 10,
        now: T0 + 1,
        leaseExpiresAt: T0 + 1 + LEASE_MS,
      });
      expect(claimed).toEqual([]);
    });

    test('a leased job is heartbeated and acked under its fence like a claimed one', async ({
      storage,
    }) => {
      const { job } = await storage.enqueue(newJob(), { lease: LEASE });
      expect(
        await storage.heartbeat({
          leaseExpiresAt: T0 + 2 * LEASE_MS,
          jobs: [{ id: job.id, leaseToken: LEASE.leaseToken }],
        }),
      ).toEqual([job.id]);
      const fence = fenceOf(job);
      expect(fence.leaseToken).toBe(LEASE.leaseToken);
      expect(
        await storage.ack({
          ...fence,
          leaseToken: newLeaseToken(),
          kind: 'success',
          result: '1',
          now: 5,
        }),
      ).toBe(false);
      expect(await storage.ack({ ...fence, kind: 'success', result: '"ok"', now: T0 + 9 })).toBe(
        true,
      );
      expect(await mustGet(storage, job.id)).toMatchObject({
        status: 'success',
        result: '"ok"',
        attempt: 1,
        ownerId: null,
        leaseExpiresAt: null,
        completedAt: T0 + 9,
      });
    });

    test('a leased job whose lease expires is swept back to pending, its attempt counted', async ({
      storage,
    }) => {
      const { job } = await storage.enqueue(newJob({ maxAttempts: 2 }), { lease: LEASE });
      const now = LEASE.leaseExpiresAt + 1;
      expect(await sweepExpired(storage, now)).toEqual([job.id]);
      expect(await mustGet(storage, job.id)).toMatchObject({
        status: 'pending',
        attempt: 1,
        error: LEASE_EXPIRED_ERROR,
        ownerId: null,
        runAt: now,
      });
      const [again] = await storage.claim({
        leaseToken: newLeaseToken(),
        names: [job.name],
        ownerId: OTHER_OWNER,
        limit: 1,
        now,
        leaseExpiresAt: now + LEASE_MS,
      });
      expect(again).toMatchObject({ id: job.id, attempt: 2, ownerId: OTHER_OWNER });
    });

    test('a leased enqueue of a duplicate key returns the existing job untouched', async ({
      storage,
    }) => {
      const first = newJob({ idempotencyKey: 'once' });
      await storage.enqueue(first);
      const again = await storage.enqueue(newJob({ name: first.name, idempotencyKey: 'once' }), {
        lease: LEASE,
      });
      expect(again).toEqual({ job: pendingRecord(first), deduplicated: true });
      expect(await storage.getJob(first.id)).toEqual(pendingRecord(first));
    });
  });
}
