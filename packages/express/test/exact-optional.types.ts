/**
 * Compiled, never run, by `pnpm typecheck` through tsconfig.exact.json (with the examples),
 * with `exactOptionalPropertyTypes` on as `tsc --init` sets it: every optional option must
 * take an explicit `undefined`, such as `{ onShutdown: testing ? done : undefined }`, which
 * the helpers treat as left out.
 */
import type { JobRouterOptions, MiddlewareOptions, ShutdownOptions } from '../src/index.ts';

/** Every property of `T` set to `undefined`: assignable to `T` only if each one accepts it. */
type AllUndefined<T> = { [K in keyof T]-?: undefined };
declare function allUndefined<T>(): AllUndefined<T>;
declare function maybe<T>(): T | undefined;

export const middleware: MiddlewareOptions = allUndefined<MiddlewareOptions>();
export const router: JobRouterOptions = allUndefined<JobRouterOptions>();
export const shutdown: ShutdownOptions = allUndefined<ShutdownOptions>();
export const fromConfig: ShutdownOptions = {
  onShutdown: maybe<() => void>(),
  timeoutMs: maybe<number>(),
};
