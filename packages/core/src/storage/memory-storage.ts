import { EventEmitter } from 'node:events';
import { ReseolioStateError } from '../errors.ts';
import { planFlowClaim } from './flow-plan.ts';
import { statsFromGroups } from './name-stats.ts';
import type {
  AckInput,
  AttemptFence,
  AttemptOutcome,
  AttemptRecord,
  ClaimInput,
  CompletionRow,
  CompletionsInput,
  EnqueueResult,
  HeartbeatInput,
  JobCountFilter,
  JobFilter,
  JobRecord,
  JobState,
  ListExpiredLeasesInput,
  NameStats,
  NewJob,
  ProgressInput,
  PurgeInput,
  StatsInput,
  StorageEvent,
} from './records.ts';
import { attemptOutcomeOf, FINAL_STATUSES, insertedRecord } from './records.ts';
import type {
  DueSchedulesInput,
  FireScheduleInput,
  FireScheduleResult,
  ScheduleFilter,
  ScheduleRecord,
  ScheduleUpdate,
  ScheduleUpsert,
  ScheduleUpsertResult,
} from './schedule-records.ts';
import type {
  ConsumeSignalInput,
  ConsumeSignalResult,
  RecordStepInput,
  RecordStepResult,
  SignalInput,
  SignalResult,
  StepRecord,
  WakeCondition,
} from './workflow-records.ts';

interface StoredSignal {
  id: string;
  topic: string;
  payload: string;
  idempotencyKey: string | null;
  consumed: boolean;
}

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
    flowControl: true,
  });
  #jobs = new Map<string, JobRecord>();
  #keys = new Map<string, string>();
  #schedules = new Map<string, ScheduleRecord>();
  /** Per job: its recorded steps by key, its signals in order, and what wakes it while waiting. */
  #steps = new Map<string, Map<string, StepRecord>>();
  #signals = new Map<string, StoredSignal[]>();
  #wakes = new Map<string, WakeCondition>();
  /** Per job: its ended attempts, oldest first. */
  #attempts = new Map<string, AttemptRecord[]>();
  /** Starts of rate-limited groups (by `name\0key`), oldest first, for `FlowRule.rateLimit`. */
  #starts = new Map<string, number[]>();
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
    const rules = new Map((input.flow ?? []).map((rule) => [rule.name, rule]));
    const due = [...this.#jobs.values()].filter((j) => isDue(j, input.now) && names.has(j.name));
    const { take, readyAt } = planFlowClaim({
      candidates: due,
      rules,
      limit: input.limit,
      now: input.now,
      concurrency: (name, key) => {
        let running = 0;
        let earliestLeaseExpiresAt: number | null = null;
        for (const job of this.#jobs.values()) {
          if (
            job.name === name &&
            job.concurrencyKey === key &&
            job.status === 'running' &&
            job.leaseExpiresAt !== null &&
            job.leaseExpiresAt >= input.now
          ) {
            running += 1;
            earliestLeaseExpiresAt = Math.min(
              earliestLeaseExpiresAt ?? job.leaseExpiresAt,
              job.leaseExpiresAt,
            );
          }
        }
        return { running, earliestLeaseExpiresAt };
      },
      rate: (name, key) => {
        const periodMs = rules.get(name)?.rateLimit?.periodMs ?? 0;
        const starts = (this.#starts.get(rateGroupOf(name, key)) ?? []).filter(
          (at) => at > input.now - periodMs,
        );
        this.#starts.set(rateGroupOf(name, key), starts);
        return { starts };
      },
    });
    for (const job of take) {
      job.status = 'running';
      job.ownerId = input.ownerId;
      job.leaseToken = input.leaseToken;
      job.leaseExpiresAt = input.leaseExpiresAt;
      job.attempt += 1;
      job.startedAt = input.now;
      job.waitingFor = null;
      this.#wakes.delete(job.id);
      if (rules.get(job.name)?.rateLimit !== undefined) {
        const group = rateGroupOf(job.name, job.rateLimitKey);
        this.#starts.set(group, [...(this.#starts.get(group) ?? []), input.now]);
      }
    }
    for (const [name, runAt] of readyAt) this.#emit({ type: 'ready', name, runAt });
    return take.map((j) => ({ ...j }));
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
    this.#endAttempt(
      job,
      input.now,
      attemptOutcomeOf(input),
      'error' in input ? input.error : null,
    );
    job.ownerId = null;
    job.leaseExpiresAt = null;
    switch (input.kind) {
      case 'success':
        Object.assign(job, { status: 'success', result: input.result, completedAt: input.now });
        this.#emit(finishedWithOutcome(job));
        this.#wakeParent(job, input.now);
        break;
      case 'dead':
        Object.assign(job, { status: 'dead', error: input.error, completedAt: input.now });
        this.#emit(finishedWithOutcome(job));
        this.#wakeParent(job, input.now);
        break;
      case 'retry':
        Object.assign(job, { status: 'pending', error: input.error, runAt: input.runAt });
        this.#emit({ type: 'ready', name: job.name, runAt: job.runAt });
        break;
      case 'release':
        Object.assign(job, { status: 'pending', attempt: input.attempt, runAt: input.now });
        this.#emit({ type: 'ready', name: job.name, runAt: job.runAt });
        break;
      case 'suspend':
        if (this.#wakesNow(job.id, input.wake)) {
          Object.assign(job, { status: 'pending', attempt: input.attempt, runAt: input.now });
        } else {
          Object.assign(job, {
            status: 'waiting',
            attempt: input.attempt,
            runAt: input.runAt,
            waitingFor: input.waitingFor,
          });
          this.#wakes.set(job.id, input.wake);
        }
        this.#emit({ type: 'ready', name: job.name, runAt: job.runAt });
        break;
    }
    return true;
  }

  /** Records the attempt `job` (still `running`, as claimed) ends with this write. */
  #endAttempt(job: JobRecord, now: number, outcome: AttemptOutcome, error: string | null): void {
    const attempts = this.#attempts.get(job.id) ?? [];
    attempts.push({
      jobId: job.id,
      leaseToken: job.leaseToken ?? '',
      attempt: job.attempt,
      workerId: job.ownerId,
      startedAt: job.startedAt ?? now,
      endedAt: now,
      outcome,
      error,
    });
    this.#attempts.set(job.id, attempts);
  }

  /** Whether a suspension's wake condition holds already (checked in the same write). */
  #wakesNow(jobId: string, wake: WakeCondition): boolean {
    switch (wake.kind) {
      case 'time':
        return false;
      case 'signal':
        return (this.#signals.get(jobId) ?? []).some((s) => !s.consumed && s.topic === wake.topic);
      case 'children':
        return wake.jobIds.some((id) => {
          const child = this.#jobs.get(id);
          return child !== undefined && FINAL.has(child.status);
        });
    }
  }

  /** A child reached a final status: its parent, waiting for children, is due now. */
  #wakeParent(child: JobRecord, now: number): void {
    if (child.parentId === null) return;
    const parent = this.#jobs.get(child.parentId);
    if (parent?.status === 'waiting' && this.#wakes.get(parent.id)?.kind === 'children') {
      this.#wake(parent, now);
    }
  }

  #wake(job: JobRecord, now: number): void {
    Object.assign(job, { status: 'pending', runAt: now, waitingFor: null });
    this.#wakes.delete(job.id);
    this.#emit({ type: 'ready', name: job.name, runAt: now });
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
    if (job.status === 'running') this.#endAttempt(job, now, 'cancelled', null);
    Object.assign(job, {
      status: 'cancelled',
      completedAt: now,
      ownerId: null,
      leaseExpiresAt: null,
      waitingFor: null,
    });
    this.#wakes.delete(jobId);
    this.#emit({ type: 'finished', jobId, status: 'cancelled' });
    this.#wakeParent(job, now);
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
        this.#steps.delete(job.id);
        this.#signals.delete(job.id);
        this.#attempts.delete(job.id);
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
    const offset = filter.offset ?? 0;
    const before = filter.before;
    return this.#matching(filter)
      .filter((j) => before === undefined || j.id < before)
      .sort((a, b) => cmp(b.id, a.id))
      .slice(offset, offset + (filter.limit ?? 100))
      .map((j) => ({ ...j }));
  }

  async countJobs(filter: JobCountFilter): Promise<number> {
    this.#assertOpen();
    return this.#matching(filter).length;
  }

  /** The jobs every condition of `filter` holds for, in no order. */
  #matching(filter: JobCountFilter): JobRecord[] {
    const statuses = filter.status === undefined ? undefined : new Set([filter.status].flat());
    return [...this.#jobs.values()].filter(
      (j) =>
        (!statuses || statuses.has(j.status)) &&
        (filter.name === undefined || j.name === filter.name) &&
        (filter.parentId === undefined || j.parentId === filter.parentId) &&
        (filter.scheduleId === undefined || j.scheduleId === filter.scheduleId) &&
        (filter.idempotencyKey === undefined || j.idempotencyKey === filter.idempotencyKey) &&
        (filter.createdAfter === undefined || j.createdAt >= filter.createdAfter) &&
        (filter.createdBefore === undefined || j.createdAt < filter.createdBefore),
    );
  }

  async completions(input: CompletionsInput): Promise<CompletionRow[]> {
    this.#assertOpen();
    const rows = new Map<string, CompletionRow>();
    for (const job of this.#jobs.values()) {
      const at = job.completedAt;
      if (!FINAL.has(job.status) || at === null || at < input.since || at >= input.until) continue;
      const bucketStart = Math.floor(at / input.bucketMs) * input.bucketMs;
      const key = `${bucketStart}\u0000${job.name}`;
      let row = rows.get(key);
      if (!row) {
        row = { name: job.name, bucketStart, success: 0, dead: 0, cancelled: 0 };
        rows.set(key, row);
      }
      row[job.status as 'success' | 'dead' | 'cancelled'] += 1;
    }
    return [...rows.values()].sort((a, b) => a.bucketStart - b.bucketStart || cmp(a.name, b.name));
  }

  async listAttempts(jobId: string): Promise<AttemptRecord[]> {
    this.#assertOpen();
    return (this.#attempts.get(jobId) ?? [])
      .map((a) => ({ ...a }))
      .sort((a, b) => a.startedAt - b.startedAt || a.endedAt - b.endedAt);
  }

  async setProgress(input: ProgressInput): Promise<boolean> {
    this.#assertOpen();
    const job = this.#jobs.get(input.id);
    if (!job || !fenced(job, input)) return false;
    job.progress = input.progress;
    this.#emit({ type: 'progress', jobId: job.id, name: job.name, progress: input.progress });
    return true;
  }

  async stats(input: StatsInput): Promise<NameStats[]> {
    this.#assertOpen();
    return statsFromGroups(
      [...this.#jobs.values()].map((job) => ({
        name: job.name,
        status: job.status,
        count: 1,
        oldestDueRunAt: isDue(job, input.now) ? job.runAt : null,
      })),
    );
  }

  async listSteps(jobId: string): Promise<StepRecord[]> {
    this.#assertOpen();
    return [...(this.#steps.get(jobId)?.values() ?? [])].map((step) => ({ ...step }));
  }

  async recordStep(input: RecordStepInput): Promise<RecordStepResult> {
    this.#assertOpen();
    const job = this.#jobs.get(input.id);
    if (!job || !fenced(job, input)) return 'fenced-out';
    return this.#record(input.id, input.key, input.value, input.now);
  }

  #record(jobId: string, key: string, value: string, now: number): RecordStepResult {
    let steps = this.#steps.get(jobId);
    if (!steps) {
      steps = new Map();
      this.#steps.set(jobId, steps);
    }
    if (steps.has(key)) return 'exists';
    steps.set(key, { key, value, createdAt: now });
    return 'recorded';
  }

  async signal(input: SignalInput): Promise<SignalResult> {
    this.#assertOpen();
    const job = this.#jobs.get(input.jobId);
    if (!job) return { status: 'job-not-found' };
    if (FINAL.has(job.status)) {
      return { status: 'job-finished', jobStatus: job.status as 'success' | 'dead' | 'cancelled' };
    }
    let signals = this.#signals.get(job.id);
    if (!signals) {
      signals = [];
      this.#signals.set(job.id, signals);
    }
    if (
      input.idempotencyKey !== null &&
      signals.some((s) => s.idempotencyKey === input.idempotencyKey)
    ) {
      return { status: 'duplicate' };
    }
    signals.push({
      id: input.id,
      topic: input.topic,
      payload: input.payload,
      idempotencyKey: input.idempotencyKey,
      consumed: false,
    });
    const wake = this.#wakes.get(job.id);
    const woke = job.status === 'waiting' && wake?.kind === 'signal' && wake.topic === input.topic;
    if (woke) this.#wake(job, input.now);
    return { status: 'stored', woke };
  }

  async consumeSignal(input: ConsumeSignalInput): Promise<ConsumeSignalResult> {
    this.#assertOpen();
    const job = this.#jobs.get(input.id);
    if (!job || !fenced(job, input)) return { status: 'fenced-out' };
    const signal = (this.#signals.get(job.id) ?? [])
      .filter((s) => !s.consumed && s.topic === input.topic)
      .sort((a, b) => cmp(a.id, b.id))[0];
    if (!signal) return { status: 'none' };
    signal.consumed = true;
    this.#record(job.id, input.key, signal.payload, input.now);
    return { status: 'consumed', payload: signal.payload };
  }

  async upsertSchedule(input: ScheduleUpsert): Promise<ScheduleUpsertResult> {
    this.#assertOpen();
    const { id, nextRunAt, now, ...definition } = input;
    const existing = this.#schedules.get(id);
    if (!existing) {
      const schedule: ScheduleRecord = {
        id,
        ...definition,
        status: 'active',
        nextRunAt,
        lastRunAt: null,
        lastJobId: null,
        createdAt: now,
        updatedAt: now,
      };
      this.#schedules.set(id, schedule);
      return { schedule: { ...schedule }, created: true };
    }
    const changed = (Object.keys(definition) as (keyof typeof definition)[]).some(
      (key) => existing[key] !== definition[key],
    );
    const moved = existing.cron !== definition.cron || existing.timezone !== definition.timezone;
    Object.assign(existing, definition);
    if (moved) existing.nextRunAt = nextRunAt;
    if (changed) existing.updatedAt = now;
    return { schedule: { ...existing }, created: false };
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    this.#assertOpen();
    const schedule = this.#schedules.get(id);
    return schedule ? { ...schedule } : undefined;
  }

  async listSchedules(filter: ScheduleFilter): Promise<ScheduleRecord[]> {
    this.#assertOpen();
    const offset = filter.offset ?? 0;
    return [...this.#schedules.values()]
      .filter(
        (s) =>
          (filter.status === undefined || s.status === filter.status) &&
          (filter.name === undefined || s.name === filter.name),
      )
      .sort((a, b) => cmp(a.id, b.id))
      .slice(offset, offset + (filter.limit ?? 100))
      .map((s) => ({ ...s }));
  }

  async updateSchedule(input: ScheduleUpdate): Promise<ScheduleRecord | undefined> {
    this.#assertOpen();
    const schedule = this.#schedules.get(input.id);
    if (!schedule || (input.ifStatus !== undefined && schedule.status !== input.ifStatus)) {
      return undefined;
    }
    for (const [key, value] of Object.entries(input.patch)) {
      if (value !== undefined) (schedule as unknown as Record<string, unknown>)[key] = value;
    }
    schedule.updatedAt = input.now;
    return { ...schedule };
  }

  async deleteSchedule(id: string): Promise<boolean> {
    this.#assertOpen();
    return this.#schedules.delete(id);
  }

  async listDueSchedules(input: DueSchedulesInput): Promise<ScheduleRecord[]> {
    this.#assertOpen();
    const names = new Set(input.names);
    return [...this.#schedules.values()]
      .filter(
        (s) =>
          s.status === 'active' &&
          s.nextRunAt !== null &&
          s.nextRunAt <= input.now &&
          names.has(s.name),
      )
      .sort((a, b) => a.nextRunAt! - b.nextRunAt! || cmp(a.id, b.id))
      .slice(0, input.limit)
      .map((s) => ({ ...s }));
  }

  async nextScheduleRunAt(names: readonly string[]): Promise<number | undefined> {
    this.#assertOpen();
    const wanted = new Set(names);
    let earliest: number | undefined;
    for (const s of this.#schedules.values()) {
      if (s.status !== 'active' || s.nextRunAt === null || !wanted.has(s.name)) continue;
      earliest = Math.min(earliest ?? s.nextRunAt, s.nextRunAt);
    }
    return earliest;
  }

  async fireSchedule(input: FireScheduleInput): Promise<FireScheduleResult | undefined> {
    this.#assertOpen();
    const schedule = this.#schedules.get(input.id);
    if (!schedule) return undefined;
    if (input.claim) {
      // The tick's compare-and-set: only one caller sees this next run.
      if (schedule.status !== 'active' || schedule.nextRunAt !== input.claim.expectedNextRunAt) {
        return undefined;
      }
      schedule.nextRunAt = input.claim.nextRunAt;
    }
    // Synchronous from here on, like enqueueMany: the claim and the jobs are one write.
    const jobs = input.jobs.map((job) => this.#insert(job));
    const last = jobs.at(-1);
    if (last) {
      schedule.lastRunAt = last.job.runAt;
      schedule.lastJobId = last.job.id;
    }
    return { schedule: { ...schedule }, jobs };
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

/** `pending` or `waiting` at or past its `runAt`: what a claim takes and `NameStats.oldestDueRunAt` looks at. */
function isDue(job: JobRecord, now: number): boolean {
  return (job.status === 'pending' || job.status === 'waiting') && job.runAt <= now;
}

function rateGroupOf(name: string, key: string | null): string {
  return key === null ? `${name}\u0000` : `${name}\u0000\u0000${key}`;
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
