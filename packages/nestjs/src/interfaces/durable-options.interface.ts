import type { DurableOptions, ScheduleOptions } from 'reseolio';

/**
 * `@Durable(name, { schedule })`: runs the method on a cron schedule, stored in the database.
 * After the method is registered, the module declares it with
 * `reseolio.schedule(id, name, options)` at every boot (an upsert: a changed cron moves the
 * next run, a schedule paused at runtime stays paused). Checked when the module initializes:
 * a bad cron or zone fails `app.init()` with `InvalidScheduleError`.
 */
export interface DurableScheduleOptions extends ScheduleOptions {
  /** The schedule's id. @default the durable name */
  id?: string | undefined;
}

/** The second argument of `@Durable(name, options)`: retry policy, and an optional schedule. */
export interface DurableMethodOptions extends DurableOptions {
  /** Run the method on a cron schedule: see {@link DurableScheduleOptions}. */
  schedule?: DurableScheduleOptions | undefined;
}

/** What `@Durable()` takes when given a single object: retry policy plus an optional name. */
export interface DurableDecoratorOptions extends DurableMethodOptions {
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
  /** The schedule to declare after registration, if any. */
  schedule?: DurableScheduleOptions | undefined;
}
