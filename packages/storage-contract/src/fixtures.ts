import { randomUUID } from 'node:crypto';
import type {
  AckInput,
  AttemptFence,
  ClaimInput,
  FlowRule,
  JobRecord,
  NewJob,
  StorageAdapter,
} from 'reseolio/storage';

/** The fake clock: storage never reads time, so every test passes offsets from this instant. */
export const T0 = 1_700_000_000_000;
export const LEASE_MS = 30_000;
export const OWNER = 'worker-a';
export const OTHER_OWNER = 'worker-b';
/** What the engine would record on a job whose lease expired. */
export const LEASE_EXPIRED_ERROR = JSON.stringify({
  name: 'LeaseExpiredError',
  message: 'The worker running this attempt stopped heartbeating before its lease expired.',
});

/** A function name no other test uses, so even a shared database could not mix tests up. */
export function uniqueName(label = 'job'): string {
  return `contract:${label}:${randomUUID().slice(0, 8)}`;
}

let idSequence = 0;

/**
 * A UUIDv7-shaped id for a job made at `createdAt`, as the engine makes them: ids sort in
 * creation order (a per-process sequence orders ids of one millisecond).
 */
export function timeOrderedId(createdAt: number): string {
  const ms = createdAt.toString(16).padStart(12, '0');
  const seq = (idSequence++).toString(16).padStart(15, '0');
  const rand = randomUUID().replace(/-/g, '').slice(0, 3);
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${seq.slice(0, 3)}-8${seq.slice(3, 6)}-${seq.slice(6)}${rand}`;
}

export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  const createdAt = overrides.createdAt ?? T0;
  return {
    id: timeOrderedId(createdAt),
    name: uniqueName(),
    args: '[1,"two",{"three":3}]',
    policy: '["exponential",1000,60000,0,30000]',
    maxAttempts: 3,
    idempotencyKey: null,
    parentId: null,
    scheduleId: null,
    priority: 0,
    concurrencyKey: null,
    rateLimitKey: null,
    traceContext: null,
    createdAt: T0,
    runAt: T0,
    ...overrides,
  };
}

/** The record storage must hold right after `enqueue(job)`. */
export function pendingRecord(job: NewJob): JobRecord {
  return {
    ...job,
    status: 'pending',
    result: null,
    error: null,
    attempt: 0,
    ownerId: null,
    leaseToken: null,
    leaseExpiresAt: null,
    startedAt: null,
    completedAt: null,
    waitingFor: null,
    progress: null,
  };
}

/** A fresh fence for one claim, as the engine makes one per claim call. */
export function newLeaseToken(): string {
  return randomUUID();
}

export interface ClaimAs {
  ownerId?: string;
  leaseToken?: string;
  now?: number;
  leaseExpiresAt?: number;
}

/** Enqueues a job and claims exactly it, returning the running record (attempt 1). */
export async function enqueueRunning(
  storage: StorageAdapter,
  overrides: Partial<NewJob> = {},
  as: ClaimAs = {},
): Promise<JobRecord> {
  const job = newJob(overrides);
  await storage.enqueue(job);
  return claimExactly(storage, job, as);
}

/** Claims `job` (which must be the only due job of its name) and fails loudly otherwise. */
export async function claimExactly(
  storage: StorageAdapter,
  job: { id: string; name: string },
  {
    ownerId = OWNER,
    leaseToken = newLeaseToken(),
    now = T0,
    leaseExpiresAt = now + LEASE_MS,
  }: ClaimAs = {},
): Promise<JobRecord> {
  const claimed = await storage.claim({
    leaseToken,
    names: [job.name],
    ownerId,
    limit: 1,
    now,
    leaseExpiresAt,
  });
  const record = claimed[0];
  if (claimed.length !== 1 || record?.id !== job.id) {
    throw new Error(
      `expected to claim job ${job.id}, got [${claimed.map((j) => j.id).join(', ')}]`,
    );
  }
  return record;
}

/** Reads a job that must exist. */
export async function mustGet(storage: StorageAdapter, id: string): Promise<JobRecord> {
  const job = await storage.getJob(id);
  if (job === undefined) throw new Error(`job ${id} is missing`);
  return job;
}

/**
 * What the engine writes for a running job whose lease it found expired before `now`: another
 * attempt at once, or `dead` when it was the last (core's attempt accounting), fenced on the
 * listed claim's token and on the lease being still expired.
 */
export function lostLeaseAck(job: JobRecord, now: number): AckInput {
  const fence = { ...fenceOf(job), leaseExpiredBefore: now };
  return job.attempt >= job.maxAttempts
    ? { ...fence, kind: 'dead', error: LEASE_EXPIRED_ERROR, now }
    : { ...fence, kind: 'retry', error: LEASE_EXPIRED_ERROR, runAt: now, now };
}

/**
 * The engine's sweep in one step: lists the leases expired before `now` and ends each lost
 * attempt with {@link lostLeaseAck}. Returns the ids whose ack applied.
 */
export async function sweepExpired(storage: StorageAdapter, now: number): Promise<string[]> {
  const expired = await storage.listExpiredLeases({ now, limit: 1_000 });
  if (expired.length === 0) return [];
  const applied = await storage.ackMany(expired.map((job) => lostLeaseAck(job, now)));
  return expired.filter((_, i) => applied[i]).map((job) => job.id);
}

/** The fence of a running record: the (id, lease token) every ack must quote. */
export function fenceOf(job: JobRecord): AttemptFence {
  if (job.status !== 'running' || job.leaseToken === null) {
    throw new Error(`job ${job.id} is not running under a lease token`);
  }
  return { id: job.id, leaseToken: job.leaseToken };
}

/** A claim of `names` under `flow` rules at `now` (T0), with a fresh fence and a full lease. */
export function flowClaimInput(
  names: readonly string[],
  flow: readonly FlowRule[],
  options: { limit?: number; now?: number; ownerId?: string; leaseExpiresAt?: number } = {},
): ClaimInput {
  const { limit = 10, now = T0, ownerId = 'w' } = options;
  const leaseExpiresAt = options.leaseExpiresAt ?? now + LEASE_MS;
  return { names, flow, limit, now, ownerId, leaseToken: newLeaseToken(), leaseExpiresAt };
}
