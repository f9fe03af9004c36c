import { ReseolioError } from '../errors.ts';
import { infoOf } from '../job-info.ts';
import { decodePolicy } from '../storage/policy-text.ts';
import type { AttemptFence, JobRecord } from '../storage/records.ts';
import type { JobInfo, ResolvedRetryPolicy } from '../types.ts';
import { AttemptAbort } from './attempt-abort.ts';

/** One attempt this process is running. */
export interface Attempt {
  readonly record: JobRecord;
  /** What every write for this attempt quotes: the job id and its claim's lease token. */
  readonly fence: AttemptFence;
  /**
   * Job id and lease token together: a claim writes one token on every job it takes, and one
   * process may hold two attempts of one job (see `RunningAttempts.add`), so neither alone
   * names an attempt.
   */
  readonly key: string;
  readonly info: JobInfo;
  readonly policy: ResolvedRetryPolicy;
  readonly aborter: AttemptAbort;
  /** False while the job waits on a child's result() and has lent its slot out. */
  holdsSlot: boolean;
  /** result() calls the job is awaiting right now. */
  waits: number;
  /** The handler has returned or thrown; only its outcome's write is left. */
  returned: boolean;
  /**
   * Set once the outcome is no longer ours to write: the lease was lost, the job was
   * cancelled, or shutdown handed it back. The attempt's own ack is then skipped (it would be
   * fenced out anyway) and nothing is emitted for it.
   */
  settled: boolean;
  /** Seconds from the handler's start to its return or throw (0 until then). */
  durationSeconds: number;
}

/** A new attempt of a job leased to this process, holding a slot. */
export function newAttempt(record: JobRecord): Attempt {
  const fence = fenceOf(record);
  return {
    record,
    fence,
    key: `${fence.id}/${fence.leaseToken}`,
    info: infoOf(record),
    policy: decodePolicy(record.policy, record.maxAttempts),
    aborter: new AttemptAbort(),
    holdsSlot: true,
    waits: 0,
    returned: false,
    settled: false,
    durationSeconds: 0,
  };
}

/** The fence of a job leased to this process: its id and the token its claim wrote. */
export function fenceOf(record: JobRecord): AttemptFence {
  if (record.leaseToken === null) {
    throw new ReseolioError(
      'RESEOLIO_STORAGE_CONTRACT',
      `The storage adapter returned job ${record.id} as leased without a leaseToken.`,
    );
  }
  return { id: record.id, leaseToken: record.leaseToken };
}

/**
 * Gives up an attempt's outcome: it is no longer ours to write (lost lease, cancellation,
 * shutdown). The handler's signal aborts with `reason`; a second call changes nothing.
 */
export function settle(attempt: Attempt, reason: Error): void {
  if (attempt.settled) return;
  attempt.settled = true;
  attempt.aborter.abort(reason);
}

/**
 * The attempts running here, by `Attempt.key`. Not by job id: one process can hold two
 * attempts of one job at once, when a database crash undid its claim and it claimed the job
 * again while the first attempt still ran. Not by token: one claim writes the same token on
 * every job of its batch. The latest attempt of each job is indexed too: only it can be
 * unsettled.
 */
export class RunningAttempts {
  readonly #byKey = new Map<string, Attempt>();
  readonly #latestOfJob = new Map<string, Attempt>();
  #onEmpty: (() => void)[] = [];

  get size(): number {
    return this.#byKey.size;
  }

  get(key: string): Attempt | undefined {
    return this.#byKey.get(key);
  }

  /** The latest attempt of `jobId` running here. */
  latestOf(jobId: string): Attempt | undefined {
    return this.#latestOfJob.get(jobId);
  }

  values(): IterableIterator<Attempt> {
    return this.#byKey.values();
  }

  /**
   * Adds `attempt`; returns the earlier attempt of the same job still running here, if any.
   * A new claim of a job means the earlier one's lease is gone (a database crash undid it):
   * the caller stops it.
   */
  add(attempt: Attempt): Attempt | undefined {
    const earlier = this.#latestOfJob.get(attempt.record.id);
    this.#byKey.set(attempt.key, attempt);
    this.#latestOfJob.set(attempt.record.id, attempt);
    return earlier;
  }

  delete(attempt: Attempt): void {
    this.#byKey.delete(attempt.key);
    if (this.#latestOfJob.get(attempt.record.id) === attempt) {
      this.#latestOfJob.delete(attempt.record.id);
    }
    if (this.#byKey.size === 0) for (const resolve of this.#onEmpty.splice(0)) resolve();
  }

  /** Resolves once no attempt runs here. */
  whenEmpty(): Promise<void> {
    if (this.#byKey.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#onEmpty.push(resolve));
  }
}
