import { type AttemptContext, attemptStorage } from '../context.ts';
import { describeValue } from '../describe-value.ts';
import { ReseolioStateError, ReseolioValidationError } from '../errors.ts';
import { MAX_TIME_MS, MAX_TIMER_MS } from '../options/bounds.ts';
import { unstorableText } from '../options/validators.ts';
import { deserialize } from '../serialization/decode.ts';
import { NEVER } from './suspension.ts';

/**
 * `step`, `sleep` and `waitForSignal`: durable workflow primitives, called inside a durable
 * function's handler. A handler that uses them may run several times (a retry, a resume after
 * a wait, another node after a crash): each primitive records what it did the first time, and
 * returns the recorded value on a re-run. Occurrences are counted per name in call order, so a
 * handler must make the same calls in the same order on every run; side effects belong inside
 * steps or child jobs.
 */

function currentAttempt(what: string): AttemptContext {
  const context = attemptStorage.getStore();
  if (context === undefined) {
    throw new ReseolioStateError(
      `${what} can only be called inside a durable function's handler (it records its work on ` +
        'the running job); call it from the function you passed to reseolio.durable().',
    );
  }
  return context;
}

function validateName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || unstorableText(name)) {
    throw new ReseolioValidationError(
      `${what} needs a name of 1-200 characters without NUL or unpaired surrogates; got ${describeValue(name)}.`,
      'RESEOLIO_INVALID_INPUT',
    );
  }
  return name;
}

/**
 * Runs `fn` once per job and records its result: on a re-run of the handler it returns the
 * recorded value without calling `fn`. A step that throws is not recorded (it runs again on
 * the next attempt). Names need not be unique: a repeated name counts its occurrences.
 * @throws ReseolioStateError outside a handler
 */
export async function step<T>(name: string, fn: () => T | Promise<T>): Promise<Awaited<T>> {
  const { workflow: run, trace } = currentAttempt('step()');
  validateName(name, 'step()');
  if (typeof fn !== 'function') {
    throw new ReseolioValidationError(
      `step("${name}", fn) needs a function.`,
      'RESEOLIO_INVALID_INPUT',
    );
  }
  const key = run.journal.next(`step:${name}`);
  const recorded = await run.journal.get(key);
  if (recorded !== undefined) {
    // Not run again, so no span: the attempt that ran it has one.
    trace.event('step replayed', () => ({ 'reseolio.step.name': name }));
    return deserialize(recorded) as Awaited<T>;
  }
  const value = await trace.step(name, fn);
  const stood = await run.journal.record(key, run.encode(value, `The result of step "${name}"`));
  return deserialize(stood) as Awaited<T>;
}

/**
 * Waits `ms` milliseconds, or until `until`, durably: the wake time is recorded once, so a
 * re-run does not restart the sleep. Longer than the engine's `suspendAfterMs`, the job
 * suspends (`waiting`: no lease, no slot) and runs again at the wake time.
 * @param duration milliseconds (integer from 0), or `{ until: Date | epoch ms }`
 * @throws ReseolioStateError outside a handler
 */
export async function sleep(duration: number | { until: Date | number }): Promise<void> {
  const { workflow: run, trace } = currentAttempt('sleep()');
  const key = run.journal.next('sleep');
  const recorded = await run.journal.get(key);
  const now = run.now();
  const until =
    recorded !== undefined
      ? (deserialize(recorded) as number)
      : (deserialize(
          await run.journal.record(key, run.encode(wakeTime(duration, now), 'a wake time')),
        ) as number);
  const remaining = until - now;
  trace.event('sleep', () => ({ 'reseolio.sleep.until': new Date(until).toISOString() }));
  if (remaining <= 0) return;
  if (remaining <= run.deps.suspendAfterMs) {
    await new Promise((resolve) => setTimeout(resolve, remaining));
    return;
  }
  await run.suspension.request({
    waitingFor: { kind: 'sleep', until },
    runAt: until,
    wake: { kind: 'time' },
  });
}

function wakeTime(duration: number | { until: Date | number }, now: number): number {
  if (typeof duration === 'number') {
    if (Number.isInteger(duration) && duration >= 0 && now + duration <= MAX_TIME_MS) {
      return now + duration;
    }
  } else if (duration !== null && typeof duration === 'object' && 'until' in duration) {
    const at = duration.until instanceof Date ? duration.until.getTime() : duration.until;
    if (Number.isInteger(at) && at >= 0 && at <= MAX_TIME_MS) return at;
  }
  throw new ReseolioValidationError(
    `sleep() takes milliseconds (an integer from 0) or { until: Date | epoch ms } up to ` +
      `9999-12-31; got ${describeValue(duration)}.`,
    'RESEOLIO_INVALID_INPUT',
  );
}

/** `waitForSignal` options. */
export interface WaitForSignalOptions {
  /**
   * Give up after this many milliseconds and return `null`; from 0 to 2147483647. Without it
   * the job waits until a signal comes (or it is cancelled).
   */
  timeoutMs?: number | undefined;
}

/**
 * Waits for a signal of `topic` sent to this job (`reseolio.signal(jobId, topic, payload)`)
 * and returns its payload, or `null` after `timeoutMs`. A signal sent before the wait is kept
 * and received; each signal is consumed by exactly one wait, oldest first; the payload is
 * recorded, so a re-run returns the same one. Unless a signal is already there, the job
 * suspends (`waiting`: no lease, no slot) until one arrives or the timeout passes.
 * @throws ReseolioStateError outside a handler
 */
export async function waitForSignal<T = unknown>(
  topic: string,
  options: WaitForSignalOptions = {},
): Promise<T | null> {
  const { workflow: run, trace } = currentAttempt('waitForSignal()');
  validateName(topic, 'waitForSignal()');
  const timeoutMs = options?.timeoutMs;
  if (
    timeoutMs !== undefined &&
    !(Number.isInteger(timeoutMs) && timeoutMs >= 0 && timeoutMs <= MAX_TIMER_MS)
  ) {
    throw new ReseolioValidationError(
      `waitForSignal() timeoutMs must be an integer from 0 to ${MAX_TIMER_MS}; got ${describeValue(timeoutMs)}.`,
      'RESEOLIO_INVALID_OPTION',
    );
  }
  const key = run.journal.next(`signal:${topic}`);
  trace.event('wait for signal', () => ({ 'reseolio.signal.topic': topic }));
  const recorded = await run.journal.get(key);
  if (recorded !== undefined) return deserialize(recorded) as T | null;
  // The deadline is recorded once, like a sleep's wake time.
  let until: number | null = null;
  if (timeoutMs !== undefined) {
    const deadlineKey = `${key}:until`;
    const stored = await run.journal.get(deadlineKey);
    const deadline = run.encode(run.now() + timeoutMs, 'a deadline');
    until = deserialize(stored ?? (await run.journal.record(deadlineKey, deadline))) as number;
  }
  const consumed = await run.deps.storage.consumeSignal({
    ...run.fence,
    topic,
    key,
    now: run.now(),
  });
  if (consumed.status === 'consumed') {
    trace.event('signal received', () => ({ 'reseolio.signal.topic': topic }));
    await run.journal.remember(key, consumed.payload);
    return deserialize(consumed.payload) as T;
  }
  if (consumed.status === 'fenced-out') {
    throw new ReseolioStateError(`Job ${run.fence.id}'s attempt no longer holds the job.`);
  }
  if (until !== null && run.now() >= until) {
    return deserialize(await run.journal.record(key, run.encode(null, 'a timeout'))) as T | null;
  }
  return run.suspension.request({
    waitingFor: { kind: 'signal', topic, until },
    runAt: until ?? NEVER,
    wake: { kind: 'signal', topic },
  });
}
