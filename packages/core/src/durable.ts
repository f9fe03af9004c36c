import { describeValue } from './describe-value.ts';
import { ReseolioValidationError } from './errors.ts';
import { foreignCallOptionKeys, isCallOptions } from './options/call-options.ts';
import {
  CALL_OPTION_KEYS,
  type CallOptions,
  type DurableFunction,
  type JobHandle,
  type ResolvedRetryPolicy,
} from './types.ts';

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
    if (all.length > 0 && isCallOptions(last)) {
      const foreign = foreignCallOptionKeys(last);
      if (foreign.length > 0) return Promise.reject(ambiguousLastArgument(name, all, foreign));
      return enqueue(name, all.slice(0, -1), last, policy);
    }
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

/**
 * The last argument has a call-option key, so it was read as call options, and other keys: a
 * typo in an option, or (more often) the handler's own object argument that happens to have a
 * key such as `timeoutMs`. Types cannot tell the two apart, so the error shows both ways out.
 */
function ambiguousLastArgument(
  name: string,
  all: unknown[],
  foreign: string[],
): ReseolioValidationError {
  const last = all[all.length - 1] as Record<string, unknown>;
  const short = (key: string) => (key.length > 40 ? `${key.slice(0, 40)}…` : key);
  const list = (keys: string[], show: (key: string) => string) =>
    keys.length > 4 ? `${keys.slice(0, 4).map(show).join(', ')}, …` : keys.map(show).join(', ');
  const own = Object.keys(last).filter((key) => !foreign.includes(key));
  const args = [
    ...all.slice(0, -1).map((_, i) => `arg${i + 1}`),
    `{ ${list(Object.keys(last), short)} }`,
  ];
  return new ReseolioValidationError(
    `Unknown call option ${list(foreign, (key) => describeValue(key, 40))} in the last argument ` +
      `of a call to "${name}", read as call options because it has ${list(own, (key) => describeValue(key, 40))}. ` +
      `Call options are ${CALL_OPTION_KEYS.join(', ')}. If that object is an argument of the ` +
      `handler, give the arguments as an array: fn.enqueue([${args.join(', ')}]), or with ` +
      `call options fn.enqueue([${args.join(', ')}], { idempotencyKey: '…' }).`,
    'RESEOLIO_INVALID_OPTION',
  );
}
