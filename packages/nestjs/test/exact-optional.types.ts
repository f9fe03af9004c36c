/**
 * Compiled, never run, by `pnpm typecheck` through tsconfig.exact.json, with
 * `exactOptionalPropertyTypes` on as `tsc --init` sets it: every optional option must take an
 * explicit `undefined`, which the module treats as left out. `storage` is the exception, as in
 * `new Reseolio()`: given as `undefined` it is an error, so its type refuses it too.
 */
import type {
  DurableDecoratorOptions,
  ReseolioModuleAsyncOptions,
  ReseolioModuleOptions,
  ReseolioOwnedEngineOptions,
} from '../src/index.ts';

/** Every property of `T` set to `undefined`: assignable to `T` only if each one accepts it. */
type AllUndefined<T> = { [K in keyof T]-?: undefined };
declare function allUndefined<T>(): AllUndefined<T>;
declare function maybe<T>(): T | undefined;

export const owned: ReseolioOwnedEngineOptions =
  allUndefined<Omit<ReseolioOwnedEngineOptions, 'storage'>>();
export const asyncOptions: ReseolioModuleAsyncOptions = allUndefined<ReseolioModuleAsyncOptions>();
export const decorator: DurableDecoratorOptions = allUndefined<DurableDecoratorOptions>();
export const fromConfig: ReseolioModuleOptions = {
  storage: 'memory:',
  stopTimeoutMs: maybe<number>(),
  routes: maybe<false>(),
  workerConcurrency: maybe<number>(),
};

// @ts-expect-error an unset DATABASE_URL must not silently mean ./reseolio.db: omit the key
export const unsetStorage: ReseolioModuleOptions = { storage: maybe<string>() };
