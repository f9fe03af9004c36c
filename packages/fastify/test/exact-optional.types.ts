/**
 * Compiled, never run, by `pnpm typecheck` through tsconfig.exact.json, with
 * `exactOptionalPropertyTypes` on as `tsc --init` sets it: every optional option must take an
 * explicit `undefined`, which the plugin treats as left out. `storage` is the exception, as in
 * `new Reseolio()`: given as `undefined` it is an error, so its type refuses it too.
 */
import type { Reseolio } from 'reseolio';
import type {
  JobRoutesOptions,
  ReseolioPluginCommonOptions,
  ReseolioPluginOptions,
} from '../src/index.ts';

/** Every property of `T` set to `undefined`: assignable to `T` only if each one accepts it. */
type AllUndefined<T> = { [K in keyof T]-?: undefined };
declare function allUndefined<T>(): AllUndefined<T>;
declare function maybe<T>(): T | undefined;
declare const engine: Reseolio;

export const routes: JobRoutesOptions = allUndefined<JobRoutesOptions>();
export const common: ReseolioPluginCommonOptions = allUndefined<ReseolioPluginCommonOptions>();
export const owned: ReseolioPluginOptions = {
  storage: 'memory:',
  workerConcurrency: maybe<number>(),
  stopTimeoutMs: maybe<number>(),
  routes: { public: true, prefix: maybe<string>(), waitMaxMs: maybe<number>() },
  instance: undefined,
  stopInstance: undefined,
};
export const borrowed: ReseolioPluginOptions = {
  instance: engine,
  stopInstance: maybe<boolean>(),
  stopTimeoutMs: maybe<number>(),
  workerConcurrency: undefined,
};

// @ts-expect-error an unset DATABASE_URL must not silently mean ./reseolio.db: omit the key
export const unsetStorage: ReseolioPluginOptions = { storage: maybe<string>() };
