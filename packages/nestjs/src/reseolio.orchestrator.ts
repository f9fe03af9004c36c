import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Reseolio } from 'reseolio';
import type { ReseolioModuleOptions } from './interfaces/reseolio-module-options.interface.ts';
import {
  RESEOLIO_ENGINE,
  RESEOLIO_LOGGER_CONTEXT,
  RESEOLIO_MODULE_OPTIONS,
} from './reseolio.constants.ts';
import { SHUTDOWN_FAILED } from './reseolio.messages.ts';

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** Runs the engine with the application: workers on bootstrap, drain on shutdown. */
@Injectable()
export class ReseolioOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly #logger = new Logger(RESEOLIO_LOGGER_CONTEXT);

  constructor(
    @Inject(RESEOLIO_ENGINE) private readonly engine: Reseolio,
    @Inject(RESEOLIO_MODULE_OPTIONS) private readonly options: ReseolioModuleOptions,
  ) {}

  /**
   * Workers start only once every module has initialized, so every `@Durable()` method is
   * registered before the first claim (a node claims only the names it registered).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.engine.start();
  }

  /**
   * Nest closes in this order: `onModuleDestroy`, `beforeApplicationShutdown`, the HTTP
   * server, `onApplicationShutdown`. Draining here lets running jobs finish while resources
   * released in `onApplicationShutdown` are still open. `stop()` stops claiming, drains up to
   * the deadline, hands the rest back to storage, and only then closes storage it opened.
   * A borrowed engine belongs to its creator and is left running.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.options.instance !== undefined) return;
    try {
      await this.engine.stop({
        timeoutMs: this.options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      });
    } catch (error) {
      // Shutdown must go on for the rest of the application; the failure is reported.
      this.#logger.error(`${SHUTDOWN_FAILED}: ${(error as Error).message}`, (error as Error).stack);
    }
  }
}
