/**
 * Compiled, never run, by `pnpm typecheck` through tsconfig.exact.json, with
 * `exactOptionalPropertyTypes` on as `tsc --init` sets it: every optional option must take an
 * explicit `undefined`, which the adapter treats as left out.
 */
import type { SqliteStorageOptions } from '../src/index.ts';

/** Every property of `T` set to `undefined`: assignable to `T` only if each one accepts it. */
type AllUndefined<T> = { [K in keyof T]-?: undefined };
declare function allUndefined<T>(): AllUndefined<T>;
declare function maybe<T>(): T | undefined;

export const all: SqliteStorageOptions = allUndefined<SqliteStorageOptions>();
export const fromEnv: SqliteStorageOptions = {
  filename: 'jobs.db',
  busyTimeoutMs: maybe<number>(),
};
