import type {
  InjectionToken,
  ModuleMetadata,
  OptionalFactoryDependency,
  Type,
} from '@nestjs/common';
import type { Reseolio, ReseolioOptions } from 'reseolio';

/**
 * The module builds and owns the engine: it starts workers on application bootstrap and, on
 * shutdown, stops claiming, drains running jobs and closes the storage it opened.
 */
export interface ReseolioOwnedEngineOptions extends ReseolioOptions {
  instance?: undefined;
  /**
   * How long shutdown waits for running jobs before aborting them and handing them back to
   * storage (pending, attempt not consumed), in milliseconds: an integer from 0 to 2147483647
   * (about 24.8 days, the longest a Node.js timer waits).
   * @default 10000
   */
  drainTimeoutMs?: number | undefined;
}

/**
 * A borrowed engine, created and stopped by the caller. The module registers `@Durable()`
 * methods on it and starts its workers on bootstrap (`start()` is idempotent), but never
 * stops it.
 */
export interface ReseolioBorrowedEngineOptions {
  instance: Reseolio;
}

/**
 * Options of `ReseolioModule.forRoot()`: engine options (`storage`, `workerConcurrency`, …)
 * or `{ instance }`. Without a `logger`, the engine logs through Nest's `Logger`.
 */
export type ReseolioModuleOptions = ReseolioOwnedEngineOptions | ReseolioBorrowedEngineOptions;

/** A class that `forRootAsync({ useClass | useExisting })` asks for the options. */
export interface ReseolioOptionsFactory {
  createReseolioOptions(): ReseolioModuleOptions | Promise<ReseolioModuleOptions>;
}

/** Options of `ReseolioModule.forRootAsync()`; give one of `useFactory`, `useClass`, `useExisting`. */
export interface ReseolioModuleAsyncOptions {
  /** Modules whose providers `inject`, `useClass` or `useExisting` need. */
  imports?: ModuleMetadata['imports'] | undefined;
  /** Builds the options from the providers listed in `inject`. */
  useFactory?:
    | ((...args: any[]) => ReseolioModuleOptions | Promise<ReseolioModuleOptions>)
    | undefined;
  /** Providers handed to `useFactory`, in order. */
  inject?: (InjectionToken | OptionalFactoryDependency)[] | undefined;
  /** A class the module instantiates to get the options. */
  useClass?: Type<ReseolioOptionsFactory> | undefined;
  /** An existing provider (from `imports`) to get the options from. */
  useExisting?: Type<ReseolioOptionsFactory> | undefined;
}
