/**
 * Compiled, never run, by `pnpm typecheck` through tsconfig.exact.json, with
 * `exactOptionalPropertyTypes` on as `tsc --init` sets it: every optional option of the
 * public types must take an explicit `undefined` (`{ idempotencyKey: maybeKey }`, a spread of
 * a config whose fields may be unset), which the runtime treats as left out. `storage` is the
 * one exception: given as `undefined` it is an error (an unset environment variable), so its
 * type refuses it too.
 */

import type { ListQuery } from '../src/http/index.ts';
import type {
  CallOptions,
  DurableOptions,
  JobFilter,
  NonRetryableError,
  Reseolio,
  ReseolioOptions,
  RetryOptions,
} from '../src/index.ts';

/** Every property of `T` set to `undefined`: assignable to `T` only if each one accepts it. */
type AllUndefined<T> = { [K in keyof T]-?: undefined };
declare function allUndefined<T>(): AllUndefined<T>;
declare function maybe<T>(): T | undefined;

export const retry: RetryOptions = allUndefined<RetryOptions>();
export const durable: DurableOptions = allUndefined<DurableOptions>();
export const call: CallOptions = allUndefined<CallOptions>();
export const engine: ReseolioOptions = allUndefined<Omit<ReseolioOptions, 'storage'>>();
export const filter: JobFilter = allUndefined<JobFilter>();
export const query: ListQuery = { limit: 1, offset: 0, status: maybe(), name: maybe() };

// The forms users write, spelled out.
export const keyed: CallOptions = { idempotencyKey: maybe<string>(), delayMs: maybe<number>() };
export const fromEnv: ReseolioOptions = {
  workerConcurrency: maybe<number>(),
  defaults: { timeoutMs: maybe<number>() },
};
export const errorCode: ConstructorParameters<typeof NonRetryableError>[1] = {
  code: maybe<string>(),
};
export const stopOptions: Parameters<Reseolio['stop']>[0] = { timeoutMs: maybe<number>() };

// @ts-expect-error an unset DATABASE_URL must not silently mean ./reseolio.db: omit the key
export const unsetStorage: ReseolioOptions = { storage: maybe<string>() };
