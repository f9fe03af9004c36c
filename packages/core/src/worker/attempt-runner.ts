import type { Clock } from '../clock.ts';
import { type AttemptContext, attemptStorage } from '../context.ts';
import {
  AttemptTimeoutError,
  JobCancelledError,
  JobSuspendedError,
  NonRetryableError,
  PayloadTooLargeError,
  type ReseolioError,
} from '../errors.ts';
import type { EngineLogger } from '../logging/engine-logger.ts';
import type { FlowSettings } from '../options/flow-options.ts';
import { ProgressReporter } from '../progress/progress-reporter.ts';
import type { ResultWaiters } from '../result-waiters.ts';
import { deserialize, errorToStored, serialize } from '../serialization.ts';
import type { AckInput, AttemptFence, FlowRule } from '../storage/records.ts';
import type { AttemptTrace, ProcessOutcome } from '../telemetry/attempt-trace.ts';
import type { AttemptOutcomeLabel } from '../telemetry/metric-names.ts';
import type { MetricsSink } from '../telemetry/metrics-sink.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import type { ReseolioEvents, ResolvedRetryPolicy } from '../types.ts';
import { SuspendRequest } from '../workflow/suspension.ts';
import { encodeWaitingFor } from '../workflow/waiting-for.ts';
import { type WorkflowDeps, WorkflowRun } from '../workflow/workflow-run.ts';
import type { AckBatcher } from './ack-batcher.ts';
import { isLastAttempt } from './attempt-accounting.ts';
import { retryDelayMs } from './backoff.ts';
import { type Attempt, settle } from './running-attempts.ts';

/** A registered handler, as the worker sees it. */
export interface Registration {
  name: string;
  handler: (...args: unknown[]) => unknown;
  /** The registration's retry policy, defaults applied (scheduled runs store it). */
  policy: Readonly<ResolvedRetryPolicy>;
  /** Priority and limits; jobs made here store the priority and keys. */
  flow: FlowSettings;
  /** The limits claims enforce for this name; undefined when it has none. */
  rule: FlowRule | undefined;
}

/**
 * Runs one attempt: the handler under its timeout and abort, then its outcome (success,
 * retry or dead, decided here by the job's retry policy) written through the ack batcher, then
 * the events and waiters of this process told. Nothing is written or emitted for an attempt
 * that settled meanwhile (its lease was lost, it was cancelled, or shutdown handed it back).
 */
export class AttemptRunner {
  readonly #deps: AttemptRunnerDeps;

  constructor(deps: AttemptRunnerDeps) {
    this.#deps = deps;
  }

  async run(attempt: Attempt): Promise<void> {
    const trace = this.#deps.tracing.startProcess(attempt.record);
    let outcome: ProcessOutcome | undefined;
    try {
      outcome = await this.#run(attempt, trace);
    } finally {
      // Every path ends the span, a throw in the engine's own code too.
      trace.end(outcome ?? 'lost');
    }
  }

  async #run(attempt: Attempt, trace: AttemptTrace): Promise<ProcessOutcome> {
    const { record, policy, aborter } = attempt;
    const registration = this.#deps.registry.get(record.name)!;
    const startedAt = this.#deps.clock.now();
    // Lag from the claim's own stamp when there is one: it is when the job left the queue.
    this.#deps.metrics.attemptStarted(
      record.name,
      ((record.startedAt ?? startedAt) - record.runAt) / 1000,
    );
    const timeout = setTimeout(
      () => aborter.abort(new AttemptTimeoutError(policy.timeoutMs)),
      policy.timeoutMs,
    );
    let value: unknown;
    const workflow = new WorkflowRun(this.#deps.workflow, attempt.fence);
    const progress = this.#progressReporter(attempt);
    try {
      const args = deserialize(record.args) as unknown[];
      const context: AttemptContext = {
        jobId: record.id,
        name: record.name,
        attempt: record.attempt,
        parentId: record.parentId,
        get signal() {
          return aborter.signal;
        },
        childCalls: new Map(),
        engine: this.#deps.engine,
        attemptKey: attempt.key,
        workflow,
        progress,
        trace,
      };
      value = await Promise.race([
        trace.run(() => attemptStorage.run(context, () => registration.handler(...args))),
        aborter.promise,
        workflow.suspension.requested,
      ]);
    } catch (error) {
      clearTimeout(timeout);
      this.#deps.handlerReturned(attempt);
      attempt.durationSeconds = (this.#deps.clock.now() - startedAt) / 1000;
      if (!progress.idle) await progress.flush();
      if (attempt.settled) return settledOutcome(attempt, trace);
      trace.failed(error);
      return this.#fail(attempt, error);
    }
    clearTimeout(timeout);
    this.#deps.handlerReturned(attempt);
    attempt.durationSeconds = (this.#deps.clock.now() - startedAt) / 1000;
    // What the handler reported is stored before its outcome: after the ack, the fence fails.
    if (!progress.idle) await progress.flush();
    if (attempt.settled) return settledOutcome(attempt, trace);
    if (value instanceof SuspendRequest) return this.#suspend(attempt, value);
    let result: string;
    try {
      result = this.#serializeResult(value);
    } catch (error) {
      // Running again would produce the same unstorable value: end the job now.
      const unstorable = new NonRetryableError((error as Error).message, {
        cause: error,
        code: (error as ReseolioError).code,
      });
      trace.failed(unstorable);
      return this.#fail(attempt, unstorable);
    }
    const now = this.#deps.clock.now();
    if (!(await this.#ack(attempt, { kind: 'success', result, now }))) return 'lost';
    this.#ended(attempt, 'success');
    this.#deps.metrics.completed(record.name, 'success');
    this.#deps.waiters.settle(record.id, { status: 'success', result, error: null });
    this.#deps.emit('job:success', attempt.info, value);
    return 'success';
  }

  #progressReporter(attempt: Attempt): ProgressReporter {
    const { storage } = this.#deps.workflow;
    const { clock, logger } = this.#deps;
    return new ProgressReporter(
      {
        storage,
        now: () => clock.now(),
        onWriteError: (error) =>
          logger.job('warn', attempt.info, 'storing its progress failed', error),
      },
      attempt.fence,
    );
  }

  #serializeResult(value: unknown): string {
    const { maxPayloadBytes } = this.#deps;
    const result = serialize(value, 'The return value');
    const size = Buffer.byteLength(result);
    if (size > maxPayloadBytes) {
      throw new PayloadTooLargeError('The return value', size, maxPayloadBytes);
    }
    return result;
  }

  /**
   * The handler suspended (a long sleep, a signal wait, children): the job is stored `waiting`
   * with the attempt given back (a suspension is not a failure), and the handler's
   * continuation is dropped; its signal aborts with `JobSuspendedError`. The job runs its
   * handler again from the top when it wakes.
   */
  async #suspend(attempt: Attempt, { wait }: SuspendRequest): Promise<ProcessOutcome> {
    const { record } = attempt;
    const written = await this.#ack(attempt, {
      kind: 'suspend',
      attempt: record.attempt - 1,
      runAt: wait.runAt,
      waitingFor: encodeWaitingFor(wait),
      wake: wait.wake,
      now: this.#deps.clock.now(),
    });
    settle(attempt, new JobSuspendedError(record.id));
    if (!written) return 'lost';
    this.#ended(attempt, 'suspended');
    this.#deps.emit('job:waiting', attempt.info);
    this.#deps.retryAt(record.name, wait.runAt);
    return 'suspended';
  }

  /** A failed attempt: another one after the policy's backoff, or dead when it was the last. */
  async #fail(attempt: Attempt, thrown: unknown): Promise<ProcessOutcome> {
    const { record, policy, info } = attempt;
    const { clock, emit, waiters } = this.#deps;
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const stored = JSON.stringify(errorToStored(thrown));
    const retryable = (thrown as { retryable?: unknown } | null)?.retryable !== false;
    const now = clock.now();
    if (retryable && !isLastAttempt(record)) {
      const runAt = now + retryDelayMs(policy, record.attempt);
      if (!(await this.#ack(attempt, { kind: 'retry', error: stored, runAt, now }))) return 'lost';
      this.#ended(attempt, 'failure');
      emit('job:error', info, error);
      emit('job:retry', info, error, new Date(runAt));
      this.#deps.retryAt(record.name, runAt);
      return 'retry';
    }
    if (!(await this.#ack(attempt, { kind: 'dead', error: stored, now }))) return 'lost';
    this.#ended(attempt, 'failure');
    this.#deps.metrics.completed(record.name, 'dead');
    waiters.settle(record.id, { status: 'dead', result: null, error: stored });
    emit('job:error', info, error);
    emit('job:dead', info, error);
    return 'dead';
  }

  /** The attempt's outcome is committed: its duration counts under `outcome`. */
  #ended(attempt: Attempt, outcome: AttemptOutcomeLabel): void {
    this.#deps.metrics.attemptEnded(attempt.record.name, outcome, attempt.durationSeconds);
  }

  #ack(attempt: Attempt, outcome: AttemptOutcome): Promise<boolean> {
    return this.#deps.acks.write({ ...outcome, ...attempt.fence } as AckInput, attempt.record);
  }
}

/**
 * How an attempt whose outcome was taken from it ended: handed back by `stop()`, cancelled,
 * or lost (its lease expired, or a new claim of the job replaced it), which is a failure.
 */
function settledOutcome(attempt: Attempt, trace: AttemptTrace): ProcessOutcome {
  const reason = attempt.aborter.reason;
  if (reason instanceof JobCancelledError) return 'cancelled';
  if ((reason as ReseolioError | undefined)?.code === 'RESEOLIO_SHUTDOWN') return 'released';
  trace.failed(reason);
  return 'lost';
}

/** An `AckInput` without its fence: what an attempt decided. */
export type AttemptOutcome = DistributiveOmit<AckInput, keyof AttemptFence>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface AttemptRunnerDeps {
  registry: ReadonlyMap<string, Registration>;
  clock: Clock;
  acks: AckBatcher;
  waiters: ResultWaiters;
  /** The engine, stored in each attempt's context to recognise its own children. */
  engine: object;
  /** The largest serialized result, in bytes. */
  maxPayloadBytes: number;
  /** What the workflow primitives of each attempt use. */
  workflow: WorkflowDeps;
  emit<K extends keyof ReseolioEvents>(event: K, ...args: ReseolioEvents[K]): void;
  logger: EngineLogger;
  /** Where attempts and outcomes are counted. */
  metrics: MetricsSink;
  /** Each attempt's `process` span. */
  tracing: Tracing;
  /** The handler returned or threw: its slot is free while the outcome is written. */
  handlerReturned(attempt: Attempt): void;
  /** A retry was recorded, due at `runAt`. */
  retryAt(name: string, runAt: number): void;
}
