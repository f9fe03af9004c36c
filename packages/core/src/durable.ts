import { ReseolioValidationError } from './errors.ts';
import { isCallOptions } from './options.ts';
import type { CallOptions, DurableFunction, JobHandle, ResolvedRetryPolicy } from './types.ts';

/** Persists one call; implemented by the engine. */
export type EnqueueCall = (
  name: string,
  args: unknown[],
  options: CallOptions | undefined,
  policy: ResolvedRetryPolicy,
) => Promise<JobHandle<unknown>>;

/** Persists many calls in one round trip; implemented by the engine. */
export type EnqueueManyCall = (
  name: string,
  argsList: unknown[][],
  options: CallOptions | undefined,
  policy: ResolvedRetryPolicy,
) => Promise<JobHandle<unknown>[]>;

/**
 * The callable a `durable()` registration returns. A trailing plain object with a known
 * per-call key (`idempotencyKey`, `delayMs`, `runAt`, a retry option…) is read as per-call
 * options; `fn.enqueue(args, options)` is the unambiguous form for handlers whose last
 * argument is itself such an object.
 */
export function createDurableFunction<A extends unknown[], R>(
  name: string,
  policy: Readonly<ResolvedRetryPolicy>,
  enqueue: EnqueueCall,
  enqueueMany: EnqueueManyCall,
): DurableFunction<A, R> {
  const call = (...all: unknown[]) => {
    const last = all[all.length - 1];
    if (all.length > 0 && isCallOptions(last)) return enqueue(name, all.slice(0, -1), last, policy);
    return enqueue(name, all, undefined, policy);
  };
  const enqueueArgs = (args: A, options?: CallOptions) => {
    if (!Array.isArray(args)) {
      return Promise.reject(
        new ReseolioValidationError(
          `${name}.enqueue(args, options) takes the arguments as an array, e.g. fn.enqueue([orderId], { delayMs: 1000 }).`,
        ),
      );
    }
    return enqueue(name, args, options, policy);
  };
  const enqueueList = (argsList: A[], options?: CallOptions) => {
    if (!Array.isArray(argsList) || !argsList.every((args) => Array.isArray(args))) {
      return Promise.reject(
        new ReseolioValidationError(
          `${name}.enqueueMany(argsList, options) takes an array of argument arrays, e.g. fn.enqueueMany([[1], [2]]).`,
        ),
      );
    }
    return enqueueMany(name, argsList, options, policy);
  };
  Object.defineProperties(call, {
    enqueue: { value: enqueueArgs, enumerable: true },
    enqueueMany: { value: enqueueList, enumerable: true },
    functionName: { value: name, enumerable: true },
    options: { value: Object.freeze({ ...policy }), enumerable: true },
  });
  return call as unknown as DurableFunction<A, R>;
}
