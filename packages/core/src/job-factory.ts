import type { Clock } from './clock.ts';
import { attemptStorage } from './context.ts';
import { PayloadTooLargeError } from './errors.ts';
import { uuidv7 } from './ids.ts';
import { type FlowSettings, jobFlowFields } from './options/flow-options.ts';
import { hasRetryOption, resolveRetryPolicy, runAtOf } from './options.ts';
import { serialize } from './serialization.ts';
import { encodePolicy } from './storage/policy-text.ts';
import type { NewJob } from './storage/records.ts';
import type { CallOptions, ResolvedRetryPolicy } from './types.ts';

/** The per-call options of a call that passed none (compared by identity: no merge needed). */
export const NO_CALL_OPTIONS: CallOptions = Object.freeze({});

/**
 * Turns one call of a durable function into the job storage is asked to insert: the retry
 * policy merged, the arguments serialized and size-checked, the idempotency key chosen (a
 * child of a running job gets a deterministic one), the id and times stamped on the engine's
 * clock. It throws on bad input before anything is stored.
 */
export class JobFactory {
  readonly #engine: object;
  readonly #clock: Clock;
  readonly #maxPayloadBytes: number;
  /** Each registration's policy, serialized once rather than on every call. */
  readonly #policyTexts = new WeakMap<object, string>();

  /** `engine` recognises calls made inside its own running jobs (children). */
  constructor(engine: object, clock: Clock, maxPayloadBytes: number) {
    this.#engine = engine;
    this.#clock = clock;
    this.#maxPayloadBytes = maxPayloadBytes;
  }

  make(
    name: string,
    args: unknown[],
    options: CallOptions,
    basePolicy: Readonly<ResolvedRetryPolicy>,
    flow: FlowSettings,
  ): NewJob {
    const { priority, concurrencyKey, rateLimitKey } = jobFlowFields(name, flow, args, options);
    const policy =
      options === NO_CALL_OPTIONS || !hasRetryOption(options)
        ? basePolicy
        : resolveRetryPolicy(basePolicy, options, 'call options');
    const argsText = serialize(args, 'argument list');
    // Cheap check first: a string's UTF-8 size is at most 3 bytes per UTF-16 unit.
    if (argsText.length * 3 > this.#maxPayloadBytes) {
      const size = Buffer.byteLength(argsText);
      if (size > this.#maxPayloadBytes) {
        throw new PayloadTooLargeError(`The arguments of ${name}`, size, this.#maxPayloadBytes);
      }
    }
    const parent = attemptStorage.getStore();
    const inJob = parent !== undefined && parent.engine === this.#engine;
    let idempotencyKey = options.idempotencyKey ?? null;
    if (idempotencyKey === null && inJob) {
      // Deterministic key from (parent, child name, call order): a retried orchestrator
      // replays the same calls in the same order and so re-attaches to the same children.
      const order = parent.childCalls.get(name) ?? 0;
      parent.childCalls.set(name, order + 1);
      idempotencyKey = `child:${parent.jobId}:${order}`;
    }
    const now = this.#clock.now();
    return {
      id: uuidv7(now),
      name,
      args: argsText,
      policy: policy === basePolicy ? this.#policyText(basePolicy) : encodePolicy(policy),
      maxAttempts: policy.maxAttempts,
      idempotencyKey,
      parentId: inJob ? parent.jobId : null,
      scheduleId: null,
      // Set by the tracing part (issue 16): the enqueuing span's context.
      traceContext: null,
      priority,
      concurrencyKey,
      rateLimitKey,
      createdAt: now,
      runAt: runAtOf(options, now),
    };
  }

  /** A registration's policy as stored on its jobs (serialized once per policy). */
  policyText(policy: Readonly<ResolvedRetryPolicy>): string {
    return this.#policyText(policy);
  }

  #policyText(policy: Readonly<ResolvedRetryPolicy>): string {
    let text = this.#policyTexts.get(policy);
    if (text === undefined) {
      text = encodePolicy(policy);
      this.#policyTexts.set(policy, text);
    }
    return text;
  }
}
