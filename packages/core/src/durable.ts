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
  Object.defineProperties(call, {
    enqueue: { value: enqueueArgs, enumerable: true },
    functionName: { value: name, enumerable: true },
    options: { value: Object.freeze({ ...policy }), enumerable: true },
  });
  return call as unknown as DurableFunction<A, R>;
}
