import type { DurableOptions } from 'reseolio';

/** What `@Durable()` takes when given a single object: retry policy plus an optional name. */
export interface DurableDecoratorOptions extends DurableOptions {
  /**
   * The durable-function name jobs are stored under. Jobs created by one deploy are run by the
   * next one by this name, so it must not change while jobs may be pending.
   * @default `${ClassName}:${methodName}`, which changes when the class or method is renamed
   *   or a minifier rewrites class names
   */
  name?: string | undefined;
}

/** What `@Durable()` stores on the method, read by the explorer at module init. */
export interface DurableMetadata {
  /** The explicit name, or `undefined` for the `ClassName:method` default. */
  name: string | undefined;
  /** Retry policy of the registration; the engine's `defaults` fill what is left out. */
  options: DurableOptions;
}
