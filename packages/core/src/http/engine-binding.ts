import { describeValue } from '../describe-value.ts';
import { MAX_TIMER_MS } from '../options/bounds.ts';
import { DEFAULT_STOP_TIMEOUT_MS } from '../options/defaults.ts';
import type { Reseolio } from '../reseolio.ts';
import type { ReseolioOptions } from '../types.ts';
import { assertReseolioEngine } from './engine-check.ts';
import { IntegrationConfigError } from './integration-error.ts';

/**
 * How an integration gets its engine and whether it stops it: the same three options in
 * `@reseolio/fastify`, `@reseolio/nestjs` and `@reseolio/express`.
 */
export interface EngineBindingOptions {
  /**
   * An engine the app created: borrowed. The integration starts it where the framework starts
   * (Fastify `onReady`, Nest bootstrap) and registers on it, but stops it only with
   * `stopInstance: true`. Without `instance`, Fastify and Nest build an engine from the other
   * options and own it: they always stop it.
   */
  instance?: Reseolio | undefined;
  /**
   * Stop the borrowed `instance` when the app shuts down, as an owned engine is (drain, hand
   * back, close the storage it opened). Leave it `false` when something else stops the
   * engine, such as a second server sharing it. @default false
   */
  stopInstance?: boolean | undefined;
  /**
   * How long shutdown lets running jobs finish before aborting them and handing them back to
   * storage (pending, attempt not consumed) for another node: the `timeoutMs` of
   * `engine.stop({ timeoutMs })`, in milliseconds, an integer from 0 to 2147483647 (about
   * 24.8 days, the longest a Node.js timer waits). @default 10000
   */
  stopTimeoutMs?: number | undefined;
}

/** The drain deadline when `stopTimeoutMs` is left out: `engine.stop()`'s own default. */
export { DEFAULT_STOP_TIMEOUT_MS };

const BINDING_KEYS = ['instance', 'stopInstance', 'stopTimeoutMs'];

/** Where the engine comes from. */
export type EngineSource =
  | { kind: 'owned'; options: ReseolioOptions }
  | { kind: 'borrowed'; instance: Reseolio };

/** {@link EngineBindingOptions}, validated. */
export interface ResolvedEngineBinding {
  source: EngineSource;
  /** Owned, or borrowed with `stopInstance: true`. */
  stopsEngine: boolean;
  stopTimeoutMs: number;
}

/**
 * Validates `instance`, `stopInstance` and `stopTimeoutMs`; every other key not in
 * `ownKeys` is an engine option (validated by `new Reseolio()`, which names a bad one).
 * An engine option set to `undefined` is left out, except `storage`: given but empty (an
 * unset environment variable) it must reach the engine, which refuses it rather than falling
 * back to a local SQLite file. Beside `instance`, engine options set to `undefined` say
 * nothing and are ignored.
 * @param where how messages name the options, e.g. `'@reseolio/fastify options'`
 * @param engineOptions `false` where the integration cannot build an engine (Express):
 *   `instance` is then required
 */
export function resolveEngineBinding(
  options: Record<string, unknown>,
  where: string,
  { ownKeys = [], engineOptions = true }: { ownKeys?: string[]; engineOptions?: boolean } = {},
): ResolvedEngineBinding {
  const { instance, stopInstance, stopTimeoutMs } = options;
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (BINDING_KEYS.includes(key) || ownKeys.includes(key)) continue;
    if (value !== undefined || (key === 'storage' && instance === undefined)) rest[key] = value;
  }
  if (stopInstance !== undefined && typeof stopInstance !== 'boolean') {
    throw new IntegrationConfigError(`${where}: stopInstance must be true or false.`);
  }
  const timeoutMs = resolveStopTimeoutMs(stopTimeoutMs, where);
  if (instance === undefined) {
    if (!engineOptions) {
      throw new IntegrationConfigError(
        `${where} need the engine: pass { instance: reseolio } with the Reseolio engine your app created.`,
      );
    }
    if (stopInstance !== undefined) {
      throw new IntegrationConfigError(
        `${where}: stopInstance only applies with instance; an engine built from options is always stopped.`,
      );
    }
    return {
      source: { kind: 'owned', options: rest as ReseolioOptions },
      stopsEngine: true,
      stopTimeoutMs: timeoutMs,
    };
  }
  assertReseolioEngine(instance, `${where}: instance`);
  const extra = Object.keys(rest);
  if (extra.length > 0) {
    throw new IntegrationConfigError(
      `${where}: give either instance or engine options, not both (got ${extra.join(', ')} ` +
        'beside instance). Configure the engine where you create it.',
    );
  }
  return {
    source: { kind: 'borrowed', instance },
    stopsEngine: stopInstance === true,
    stopTimeoutMs: timeoutMs,
  };
}

function resolveStopTimeoutMs(value: unknown, where: string): number {
  if (value === undefined) return DEFAULT_STOP_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new IntegrationConfigError(
      `${where}: stopTimeoutMs must be an integer number of milliseconds from 0 to ` +
        `${MAX_TIMER_MS} (about 24.8 days), got ${describeValue(value)}.`,
    );
  }
  return value;
}
