import { attemptsOf } from './attempt-info.ts';
import { JobCancelledError, JobFailedError } from './errors.ts';
import type { FinalState, InsertMark } from './result-waiters.ts';
import { deserialize } from './serialization/decode.ts';
import type { AttemptRecord, JobRecord, JobStatus } from './storage/records.ts';
import type { StepRecord } from './storage/workflow-records.ts';
import type { JobDetails, JobHandle, StoredError } from './types.ts';
import { stepsOf } from './workflow/step-info.ts';
import { decodeWaitingFor } from './workflow/waiting-for.ts';

/** What a handle needs from the engine that made it. */
export interface HandleHost {
  /** The job's record; throws `JobNotFoundError` for an unknown id. */
  getRecord(jobId: string): Promise<JobRecord>;
  /** The job's ended attempts, oldest first (empty for an unknown job). */
  listAttempts(jobId: string): Promise<AttemptRecord[]>;
  /** The job's recorded workflow steps, sleeps and signals (empty for an unknown job). */
  listSteps(jobId: string): Promise<StepRecord[]>;
  /**
   * Waits for the job to finish, giving up the caller's slot when it is itself a job.
   * `inserted`: the job was inserted by this process at that point (saves the first read).
   */
  waitFinal(jobId: string, timeoutMs?: number, inserted?: InsertMark): Promise<FinalState>;
  cancel(jobId: string): Promise<boolean>;
}

export class DurableJobHandle<R> implements JobHandle<R> {
  readonly jobId: string;
  readonly #host: HandleHost;
  readonly #inserted: InsertMark | undefined;

  constructor(host: HandleHost, jobId: string, inserted?: InsertMark) {
    this.#host = host;
    this.jobId = jobId;
    this.#inserted = inserted;
  }

  async result(timeoutMs?: number): Promise<R> {
    return finalValue<R>(
      this.jobId,
      await this.#host.waitFinal(this.jobId, timeoutMs, this.#inserted),
    );
  }

  async status(): Promise<JobStatus> {
    return (await this.#host.getRecord(this.jobId)).status;
  }

  async details(): Promise<JobDetails<R>> {
    const record = await this.#host.getRecord(this.jobId);
    // After the record, not beside it: see attemptsOf. The journal only grows, so it may be
    // read beside the attempts.
    const [attempts, steps] = await Promise.all([
      this.#host.listAttempts(this.jobId),
      this.#host.listSteps(this.jobId),
    ]);
    return {
      ...toDetails<R>(record),
      attempts: attemptsOf(record, attempts),
      steps: stepsOf(steps),
    };
  }

  cancel(): Promise<boolean> {
    return this.#host.cancel(this.jobId);
  }
}

/** The value of a successful job, or the error `result()` rejects with. */
export function finalValue<R>(jobId: string, state: FinalState): R {
  switch (state.status) {
    case 'success':
      return (state.result === null ? undefined : deserialize(state.result)) as R;
    case 'cancelled':
      throw new JobCancelledError(jobId);
    default:
      throw new JobFailedError(
        jobId,
        parseError(state.error) ?? { name: 'Error', message: 'unknown error' },
      );
  }
}

export function toDetails<R>(record: JobRecord): JobDetails<R> {
  return {
    id: record.id,
    name: record.name,
    status: record.status,
    args: deserialize(record.args) as unknown[],
    result: (record.result === null ? undefined : deserialize(record.result)) as R | undefined,
    error: parseError(record.error),
    attempt: record.attempt,
    maxAttempts: record.maxAttempts,
    idempotencyKey: record.idempotencyKey,
    parentId: record.parentId,
    scheduleId: record.scheduleId,
    priority: record.priority,
    concurrencyKey: record.concurrencyKey,
    rateLimitKey: record.rateLimitKey,
    waitingFor: decodeWaitingFor(record.waitingFor),
    progress: record.progress === null ? null : deserialize(record.progress),
    createdAt: new Date(record.createdAt),
    runAt: new Date(record.runAt),
    startedAt: record.startedAt === null ? null : new Date(record.startedAt),
    completedAt: record.completedAt === null ? null : new Date(record.completedAt),
  };
}

function parseError(text: string | null): StoredError | null {
  return text === null ? null : (JSON.parse(text) as StoredError);
}
