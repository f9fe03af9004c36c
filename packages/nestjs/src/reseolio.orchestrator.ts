import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { EngineLifecycle } from 'reseolio/http';
import { RESEOLIO_LIFECYCLE, RESEOLIO_LOGGER_CONTEXT } from './reseolio.constants.ts';
import { SHUTDOWN_FAILED } from './reseolio.messages.ts';

/** Runs the engine with the application: workers on bootstrap, drain on shutdown. */
@Injectable()
export class ReseolioOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly #logger = new Logger(RESEOLIO_LOGGER_CONTEXT);

  constructor(@Inject(RESEOLIO_LIFECYCLE) private readonly lifecycle: EngineLifecycle) {}

  /**
   * Workers start only once every module has initialized, so every `@Durable()` method is
   * registered before the first claim (a node claims only the names it registered).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.lifecycle.start();
  }

  /**
   * Nest closes in this order: `onModuleDestroy`, `beforeApplicationShutdown`, the HTTP
   * server, `onApplicationShutdown`. Draining here lets running jobs finish while resources
   * released in `onApplicationShutdown` are still open. `stop()` stops claiming, drains up to
   * `stopTimeoutMs`, hands the rest back to storage, and only then closes storage it opened.
   * A borrowed engine is left running unless `stopInstance: true`.
   */
  async beforeApplicationShutdown(): Promise<void> {
    try {
      await this.lifecycle.stop();
    } catch (error) {
      // Shutdown must go on for the rest of the application; the failure is reported.
      this.#logger.error(`${SHUTDOWN_FAILED}: ${(error as Error).message}`, (error as Error).stack);
    }
  }
}
