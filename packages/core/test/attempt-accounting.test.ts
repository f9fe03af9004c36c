import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/storage/memory-storage.ts';
import type { JobRecord, StorageEvent } from '../src/storage/records.ts';
import type { StorageAdapter } from '../src/storage/storage.ts';
import {
  isLastAttempt,
  lostLeaseAck,
  releaseAck,
  sweepExpiredLeases,
} from '../src/worker/attempt-accounting.ts';

const T0 = 1_700_000_000_000;
const LEASE_MS = 1_000;
const LOST = '{"name":"LeaseExpiredError","message":"lost"}';
let sequence = 0;

/** A job enqueued and claimed `attempt` times (each earlier claim lost its lease and was swept). */
async function running(
  storage: StorageAdapter,
  { maxAttempts = 3, leaseExpiresAt = T0 + LEASE_MS } = {},
): Promise<JobRecord> {
  sequence += 1;
  const name = `accounting:${sequence}`;
  const id = `0190a000-0000-7000-8000-${String(sequence).padStart(12, '0')}`;
  await storage.enqueue({
    id,
    name,
    args: '[]',
    policy: '[]',
    maxAttempts,
    idempotencyKey: null,
    parentId: null,
    scheduleId: null,
    priority: 0,
    concurrencyKey: null,
    rateLimitKey: null,
    traceContext: null,
    createdAt: T0,
    runAt: T0,
  });
  const [job] = await storage.claim({
    names: [name],
    ownerId: 'worker',
    leaseToken: `token-${sequence}`,
    limit: 1,
    now: T0,
    leaseExpiresAt,
  });
  return job!;
}

async function events(storage: StorageAdapter): Promise<StorageEvent[]> {
  const seen: StorageEvent[] = [];
  await storage.subscribe((event) => seen.push(event));
  return seen;
}

describe('attempt accounting', () => {
  it('the last attempt is the one that reached maxAttempts', () => {
    expect(isLastAttempt({ attempt: 2, maxAttempts: 3 })).toBe(false);
    expect(isLastAttempt({ attempt: 3, maxAttempts: 3 })).toBe(true);
    // A job retried after its policy shrank (or a count past the cap) is over, not negative.
    expect(isLastAttempt({ attempt: 4, maxAttempts: 3 })).toBe(true);
  });

  it('a hand-back gives the attempt its claim counted back', async () => {
    expect(releaseAck({ attempt: 2 }, T0)).toEqual({ kind: 'release', attempt: 1, now: T0 });
    const storage = new MemoryStorage();
    const job = await running(storage);
    const fence = { id: job.id, leaseToken: job.leaseToken! };
    expect(await storage.ack({ ...releaseAck(job, T0 + 5), ...fence })).toBe(true);
    expect(await storage.getJob(job.id)).toMatchObject({
      status: 'pending',
      attempt: 0,
      runAt: T0 + 5,
    });
  });

  it('a lost lease counts: another attempt at once, or dead on the last one', () => {
    const base = { leaseToken: 'tok', maxAttempts: 3 } as JobRecord;
    expect(lostLeaseAck({ ...base, id: 'a', attempt: 2 }, T0, LOST)).toEqual({
      id: 'a',
      leaseToken: 'tok',
      leaseExpiredBefore: T0,
      kind: 'retry',
      error: LOST,
      runAt: T0,
      now: T0,
    });
    expect(lostLeaseAck({ ...base, id: 'b', attempt: 3 }, T0, LOST)).toEqual({
      id: 'b',
      leaseToken: 'tok',
      leaseExpiredBefore: T0,
      kind: 'dead',
      error: LOST,
      now: T0,
    });
  });

  it('a sweep requeues or ends each expired attempt and returns the jobs as they are after it', async () => {
    const storage = new MemoryStorage();
    const seen = await events(storage);
    const retryable = await running(storage, { maxAttempts: 2 });
    const last = await running(storage, { maxAttempts: 1 });
    const alive = await running(storage, { leaseExpiresAt: T0 + 10 * LEASE_MS });
    const now = T0 + LEASE_MS + 1;
    seen.length = 0;

    const swept = await sweepExpiredLeases(storage, { now, error: LOST });

    expect(swept).toEqual({
      requeued: [await storage.getJob(retryable.id)],
      dead: [await storage.getJob(last.id)],
    });
    expect(swept.requeued[0]).toMatchObject({ status: 'pending', runAt: now, attempt: 1 });
    expect(swept.dead[0]).toMatchObject({ status: 'dead', completedAt: now, error: LOST });
    expect((await storage.getJob(alive.id))?.status).toBe('running');
    expect(seen).toEqual([
      { type: 'ready', name: retryable.name, runAt: now },
      {
        type: 'finished',
        jobId: last.id,
        status: 'dead',
        outcome: { result: null, error: LOST },
      },
    ]);
  });

  it('a heartbeat that lands between the listing and the ack wins', async () => {
    const storage = new MemoryStorage();
    const job = await running(storage);
    const now = T0 + LEASE_MS + 1;
    const list = storage.listExpiredLeases.bind(storage);
    // The owner was only slow: its heartbeat commits right after the sweeper listed the job.
    storage.listExpiredLeases = async (input) => {
      const listed = await list(input);
      await storage.heartbeat({
        jobs: [{ id: job.id, leaseToken: job.leaseToken! }],
        leaseExpiresAt: now + LEASE_MS,
      });
      return listed;
    };

    expect(await sweepExpiredLeases(storage, { now, error: LOST })).toEqual({
      requeued: [],
      dead: [],
    });
    expect(await storage.getJob(job.id)).toEqual({ ...job, leaseExpiresAt: now + LEASE_MS });
  });

  it('sweeps in bounded batches until none is left', async () => {
    const storage = new MemoryStorage();
    const jobs = [];
    for (let i = 0; i < 5; i += 1) jobs.push(await running(storage));
    const limits: number[] = [];
    const list = storage.listExpiredLeases.bind(storage);
    storage.listExpiredLeases = async (input) => {
      limits.push(input.limit);
      return list(input);
    };

    const swept = await sweepExpiredLeases(storage, {
      now: T0 + LEASE_MS + 1,
      error: LOST,
      batchSize: 2,
    });

    expect(swept.requeued.map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(limits).toEqual([2, 2, 2]);
  });

  it('stops when a full batch made no progress instead of listing it forever', async () => {
    const storage = new MemoryStorage();
    const job = await running(storage);
    let lists = 0;
    // A listing that keeps answering the job, while every ack fails its fence.
    storage.listExpiredLeases = async () => {
      lists += 1;
      return [job];
    };
    storage.ackMany = async (inputs) => inputs.map(() => false);

    expect(
      await sweepExpiredLeases(storage, { now: T0 + LEASE_MS + 1, error: LOST, batchSize: 1 }),
    ).toEqual({ requeued: [], dead: [] });
    expect(lists).toBe(1);
  });
});
