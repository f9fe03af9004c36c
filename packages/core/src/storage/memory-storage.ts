import { EventEmitter } from 'node:events';
import { ReseolioStateError } from '../errors.ts';
import type {
  AckInput,
  AttemptFence,
  ClaimInput,
  EnqueueResult,
  HeartbeatInput,
  JobFilter,
  JobRecord,
  JobState,
  ListExpiredLeasesInput,
  NewJob,
  PurgeInput,
  StorageEvent,
} from './records.ts';
import { FINAL_STATUSES, insertedRecord } from './records.ts';
import type {
  EnqueueLease,
  EnqueueOptions,
  StorageAdapter,
  StorageCapabilities,
} from './storage.ts';

const FINAL = new Set(FINAL_STATUSES);

/**
 * Storage in this process's memory: the reference implementation of the contract, for unit
 * tests and examples. Nothing survives a restart, and other processes cannot see it.
 * Every method copies records in and out, so callers never share mutable state with it.
 */
export class MemoryStorage implements StorageAdapter {
  readonly kind = 'memory';
  readonly capabilities: StorageCapabilities = Object.freeze({
    crossProcessNotify: false,
    multiProcess: false,
    leasedEnqueue: true,
  });
  #jobs = new Map<string, JobRecord>();
  #keys = new Map<string, string>();
  #events = new EventEmitter();
  #closed = false;

  async init(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#events.removeAllListeners();
  }

  async enqueue(job: NewJob, options?: EnqueueOptions): Promise<EnqueueResult> {
    this.#assertOpen();
    if (options?.transaction !== undefined) {
      throw new ReseolioStateError('MemoryStorage cannot join a caller transaction.');
    }
    return this.#insert(job, options?.lease);
  }

  #insert(job: NewJob, lease?: EnqueueLease): EnqueueResult {
    if (job.idempotencyKey !== null) {
      const existingId = this.#keys.get(keyOf(job.name, job.idempotencyKey));
      if (existingId) return { job: { ...this.#jobs.get(existingId)! }, deduplicated: true };
      this.#keys.set(keyOf(job.name, job.idempotencyKey), job.id);
    }
    const record = insertedRecord(job, lease);
    this.#jobs.set(job.id, record);
    if (!lease) this.#emit({ type: 'ready', name: job.name, runAt: job.runAt });
    return { job: { ...record }, deduplicated: false };
  }

  async enqueueMany(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    this.#assertOpen();
    // Synchronous from here on: nothing else can interleave, so the batch is all or nothing.
    return jobs.map((job) => this.#insert(job));
  }

  async claim(input: ClaimInput): Promise<JobRecord[]> {
    this.#assertOpen();
    if (input.names.length === 0 || input.limit <= 0) return [];
    const names = new Set(input.names);
    const due = [...this.#jobs.values()]
      .filter((j) => j.status === 'pending' && j.runAt <= input.now && names.has(j.name))
      .sort((a, b) => a.runAt - b.runAt || a.createdAt - b.createdAt || cmp(a.id, b.id))
      .slice(0, input.limit);
    for (const job of due) {
      job.status = 'running';
      job.ownerId = input.ownerId;
      job.leaseToken = input.leaseToken;
      job.leaseExpiresAt = input.leaseExpiresAt;
      job.attempt += 1;
      job.startedAt = input.now;
    }
    return due.map((j) => ({ ...j }));
  }

  async heartbeat(input: HeartbeatInput): Promise<string[]> {
    this.#assertOpen();
    const held: string[] = [];
    for (const fence of input.jobs) {
      const job = this.#jobs.get(fence.id);
      if (job && fenced(job, fence)) {
        job.leaseExpiresAt = input.leaseExpiresAt;
        held.push(fence.id);
      }
    }
    return held;
  }

  async ackMany(inputs: readonly AckInput[]): Promise<boolean[]> {
    this.#assertOpen();
    return inputs.map((input) => this.#ack(input));
  }

  async ack(input: AckInput): Promise<boolean> {
    this.#assertOpen();
    return this.#ack(input);
  }

  #ack(input: AckInput): boolean {
    const job = this.#jobs.get(input.id);
    if (!job || !fenced(job, input)) return false;
    // The sweep's fence: the lease must still be expired, or a heartbeat in between won.
    if (
      input.leaseExpiredBefore !== undefined &&
      !(job.leaseExpiresAt !== null && job.leaseExpiresAt < input.leaseExpiredBefore)
    ) {
      return false;
    }
    job.ownerId = null;
    job.leaseExpiresAt = null;
    switch (input.kind) {
      case 'success':
        Object.assign(job, { status: 'success', result: input.result, completedAt: input.now });
        this.#emit(finishedWithOutcome(job));
        break;
      case 'dead':
        Object.assign(job, { status: 'dead', error: input.error, completedAt: input.now });
        this.#emit(finishedWithOutcome(job));
        break;
      case 'retry':
        Object.assign(job, { status: 'pending', error: input.error, runAt: input.runAt });
        this.#emit({ type: 'ready', name: job.name, runAt: job.runAt });
        break;
      case 'release':
        Object.assign(job, { status: 'pending', attempt: input.attempt, runAt: input.now });
        this.#emit({ type: 'ready', name: job.name, runAt: job.runAt });
        break;
    }
    return true;
  }

  async listExpiredLeases(input: ListExpiredLeasesInput): Promise<JobRecord[]> {
    this.#assertOpen();
    // A lease expiring exactly now is still held: only strictly past leases are listed.
    return [...this.#jobs.values()]
      .filter(
        (j) => j.status === 'running' && j.leaseExpiresAt !== null && j.leaseExpiresAt < input.now,
      )
      .sort((a, b) => a.leaseExpiresAt! - b.leaseExpiresAt! || cmp(a.id, b.id))
      .slice(0, input.limit)
      .map((j) => ({ ...j }));
  }

  async cancel(jobId: string, now: number): Promise<boolean> {
    this.#assertOpen();
    const job = this.#jobs.get(jobId);
    if (!job || FINAL.has(job.status)) return false;
    Object.assign(job, {
      status: 'cancelled',
      completedAt: now,
      ownerId: null,
      leaseExpiresAt: null,
    });
    this.#emit({ type: 'finished', jobId, status: 'cancelled' });
    return true;
  }

  async retry(jobId: string, now: number): Promise<boolean> {
    this.#assertOpen();
    const job = this.#jobs.get(jobId);
    if (!job || (job.status !== 'dead' && job.status !== 'cancelled')) return false;
    Object.assign(job, { status: 'pending', attempt: 0, runAt: now, completedAt: null });
    this.#emit({ type: 'ready', name: job.name, runAt: now });
    return true;
  }

  async purge(input: PurgeInput): Promise<number> {
    this.#assertOpen();
    let deleted = 0;
    for (const job of this.#jobs.values()) {
      if (deleted >= input.limit) break;
      if (
        FINAL.has(job.status) &&
        job.completedAt !== null &&
        job.completedAt < input.completedBefore
      ) {
        this.#jobs.delete(job.id);
        if (job.idempotencyKey !== null) this.#keys.delete(keyOf(job.name, job.idempotencyKey));
        deleted += 1;
      }
    }
    return deleted;
  }

  async getJob(jobId: string): Promise<JobRecord | undefined> {
    this.#assertOpen();
    const job = this.#jobs.get(jobId);
    return job ? { ...job } : undefined;
  }

  async getJobStates(jobIds: readonly string[]): Promise<JobState[]> {
    this.#assertOpen();
    return jobIds.flatMap((id) => {
      const job = this.#jobs.get(id);
      return job ? [{ id, status: job.status, result: job.result, error: job.error }] : [];
    });
  }

  async listJobs(filter: JobFilter): Promise<JobRecord[]> {
    this.#assertOpen();
    const statuses = filter.status === undefined ? undefined : new Set([filter.status].flat());
    const offset = filter.offset ?? 0;
    return [...this.#jobs.values()]
      .filter(
        (j) =>
          (!statuses || statuses.has(j.status)) &&
          (filter.name === undefined || j.name === filter.name) &&
          (filter.parentId === undefined || j.parentId === filter.parentId),
      )
      .sort((a, b) => cmp(b.id, a.id))
      .slice(offset, offset + (filter.limit ?? 100))
      .map((j) => ({ ...j }));
  }

  async subscribe(listener: (event: StorageEvent) => void): Promise<() => Promise<void>> {
    this.#assertOpen();
    this.#events.on('event', listener);
    return async () => {
      this.#events.off('event', listener);
    };
  }

  #emit(event: StorageEvent): void {
    // Deliver after the caller's await resumes, as a real database notification would.
    queueMicrotask(() => this.#events.emit('event', event));
  }

  #assertOpen(): void {
    if (this.#closed) throw new ReseolioStateError('This MemoryStorage is closed.');
  }
}

/** Every write on behalf of an attempt must match the claim that holds the lease. */
function fenced(job: JobRecord, fence: AttemptFence): boolean {
  return job.status === 'running' && job.leaseToken === fence.leaseToken;
}

function finishedWithOutcome(job: JobRecord): StorageEvent {
  return {
    type: 'finished',
    jobId: job.id,
    status: job.status,
    outcome: { result: job.result, error: job.error },
  };
}

function keyOf(name: string, key: string): string {
  return `${name}\u0000${key}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
