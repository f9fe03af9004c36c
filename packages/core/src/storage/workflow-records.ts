import type { AttemptFence } from './records.ts';

/**
 * What workflows keep beside a job: the recorded steps of its handler (a step's result, a
 * sleep's wake time, a consumed signal) and the signals sent to it. A re-run of the handler
 * (a retry, a resume after a wait, another node after a crash) reads the steps back instead
 * of doing their work again. Payloads are strings the engine serialized.
 */

/** One recorded step of a job's handler. */
export interface StepRecord {
  /**
   * Unique within the job: the engine's key for one occurrence of a step, a sleep or a
   * signal wait (`step:load#0`, `sleep#1`, `signal:plan-chosen#0`).
   */
  key: string;
  /** The serialized value the re-run returns. */
  value: string;
  createdAt: number;
}

/** `recordStep`: a step's value, written only while the attempt's fence holds. */
export interface RecordStepInput extends AttemptFence {
  key: string;
  value: string;
  now: number;
}

/**
 * `recordStep`'s answer: `recorded`, or `exists` when the key already had a value (kept: the
 * first value of a key wins), or `fenced-out` when the attempt no longer holds the job (nothing
 * was written).
 */
export type RecordStepResult = 'recorded' | 'exists' | 'fenced-out';

/**
 * `signal`: stores a signal for a job and wakes the job when it waits for the topic, in one
 * transaction that first locks the job's row, so a signal is never lost between a wait's check
 * and its suspension (the suspension locks the same row and looks for unconsumed signals
 * after taking the lock).
 */
export interface SignalInput {
  /** A UUIDv7 made now: signals of one topic are consumed in this order. */
  id: string;
  jobId: string;
  topic: string;
  /** The serialized payload. */
  payload: string;
  /** A second signal with the same key to the same job is a duplicate: not stored. */
  idempotencyKey: string | null;
  now: number;
}

/**
 * - `stored`: kept until a wait on its topic consumes it; `woke` when the job was waiting for
 *   the topic and is now due (announced as `ready`).
 * - `duplicate`: a signal with the same idempotency key was stored before (nothing changed).
 * - `job-not-found`, `job-finished`: nothing was stored.
 */
export type SignalResult =
  | { status: 'stored'; woke: boolean }
  | { status: 'duplicate' }
  | { status: 'job-not-found' }
  | { status: 'job-finished'; jobStatus: 'success' | 'dead' | 'cancelled' };

/**
 * `consumeSignal`: takes the oldest unconsumed signal of `topic` for the job, marks it
 * consumed and records its payload as the step `key`, in one transaction, fenced on the
 * attempt: a signal is consumed exactly once, and a re-run reads it back from the step.
 */
export interface ConsumeSignalInput extends AttemptFence {
  topic: string;
  /** The step key the payload is recorded under. */
  key: string;
  now: number;
}

/**
 * `consumed` with the payload; `none` when no unconsumed signal of the topic exists;
 * `fenced-out` when the attempt no longer holds the job (nothing changed).
 */
export type ConsumeSignalResult =
  | { status: 'consumed'; payload: string }
  | { status: 'none' }
  | { status: 'fenced-out' };

/**
 * What wakes a suspended job besides its `runAt` (see the `suspend` ack). Checked once more
 * inside the suspension's transaction, after the job's row is locked: when the condition
 * already holds, the job is stored `pending` and due now instead of `waiting`.
 */
export type WakeCondition =
  /** Only the time (a sleep). */
  | { kind: 'time' }
  /** A signal of this topic: one stored unconsumed, or one sent later (`signal`). */
  | { kind: 'signal'; topic: string }
  /**
   * A child job (one whose `parentId` is this job) reaching a final status. `jobIds` are the
   * children the handler awaits: when one of them is final already, the job wakes at once.
   * Later, any child's final status wakes it (a spurious wake only re-runs the handler, which
   * re-attaches and waits again).
   */
  | { kind: 'children'; jobIds: readonly string[] };
