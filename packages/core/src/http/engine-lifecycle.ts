import { Reseolio } from '../reseolio.ts';
import type { ReseolioOptions } from '../types.ts';
import type { ResolvedEngineBinding } from './engine-binding.ts';

/**
 * The engine as the framework runs it: opened (storage connected, migrations applied) while
 * the app boots, started when it is ready, stopped at shutdown if the integration stops it.
 * Every integration drives its engine through this one object, so ownership and the drain
 * behave the same in all of them.
 */
export class EngineLifecycle {
  readonly engine: Reseolio;
  readonly #binding: ResolvedEngineBinding;

  constructor(engine: Reseolio, binding: ResolvedEngineBinding) {
    this.engine = engine;
    this.#binding = binding;
  }

  /**
   * Builds the owned engine (with `defaults` under the user's options: the framework's
   * logger, `handleSignals: false`…) or takes the borrowed one, then connects storage, so
   * an unreachable database fails the app's boot instead of its first request. An owned
   * engine whose storage failed is stopped again: no shutdown hook exists yet to do it.
   */
  static async open(
    binding: ResolvedEngineBinding,
    defaults: ReseolioOptions = {},
    overrides: ReseolioOptions = {},
  ): Promise<EngineLifecycle> {
    const { source } = binding;
    const engine =
      source.kind === 'borrowed'
        ? source.instance
        : new Reseolio({ ...defaults, ...source.options, ...overrides });
    try {
      await engine.init();
    } catch (error) {
      if (source.kind === 'owned') await engine.stop({ timeoutMs: 0 }).catch(() => {});
      throw error;
    }
    return new EngineLifecycle(engine, binding);
  }

  /** Whether {@link stop} stops the engine: owned, or borrowed with `stopInstance: true`. */
  get stopsEngine(): boolean {
    return this.#binding.stopsEngine;
  }

  get stopTimeoutMs(): number {
    return this.#binding.stopTimeoutMs;
  }

  /** Starts claiming. Idempotent, so a borrowed engine the app already started is fine. */
  start(): Promise<void> {
    return this.engine.start();
  }

  /**
   * Stops the engine if the integration stops it: no new claims, running jobs finish up to
   * `stopTimeoutMs`, the rest are handed back (attempt not consumed), then storage the engine
   * opened is closed, in that order. A borrowed engine without `stopInstance` is left alone.
   */
  async stop(): Promise<void> {
    if (this.stopsEngine) await this.engine.stop({ timeoutMs: this.stopTimeoutMs });
  }
}
