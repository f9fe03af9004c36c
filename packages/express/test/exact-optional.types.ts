/**
 * Compiled, never run, by `pnpm typecheck` through tsconfig.exact.json (with the examples),
 * with `exactOptionalPropertyTypes` on as `tsc --init` sets it: every optional option must
 * take an explicit `undefined`, such as `{ onShutdown: testing ? done : undefined }`, which
 * the helpers treat as left out.
 */
import type { Reseolio } from 'reseolio';
import type { JobRouterOptions, MiddlewareOptions, ShutdownOptions } from '../src/index.ts';

/** Every property of `T` set to `undefined`: assignable to `T` only if each one accepts it. */
type AllUndefined<T> = { [K in keyof T]-?: undefined };
declare function allUndefined<T>(): AllUndefined<T>;
declare function maybe<T>(): T | undefined;
declare const engine: Reseolio;

export const middleware: Omit<MiddlewareOptions, 'instance'> =
  allUndefined<Omit<MiddlewareOptions, 'instance'>>();
export const router: Omit<JobRouterOptions, 'instance'> =
  allUndefined<Omit<JobRouterOptions, 'instance'>>();
export const shutdown: Omit<ShutdownOptions, 'instance'> =
  allUndefined<Omit<ShutdownOptions, 'instance'>>();
export const fromConfig: ShutdownOptions = {
  instance: engine,
  onShutdown: maybe<() => void>(),
  stopTimeoutMs: maybe<number>(),
  stopInstance: maybe<boolean>(),
};
