import { type DynamicModule, Module, type Provider, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Reseolio, ReseolioValidationError } from 'reseolio';
import { DurableHandles } from './durable-handles.ts';
import type {
  ReseolioModuleAsyncOptions,
  ReseolioModuleOptions,
  ReseolioOptionsFactory,
} from './interfaces/reseolio-module-options.interface.ts';
import { NestLoggerAdapter } from './nest-logger.adapter.ts';
import { RESEOLIO_ENGINE, RESEOLIO_MODULE_OPTIONS } from './reseolio.constants.ts';
import { ReseolioExplorer } from './reseolio.explorer.ts';
import {
  INSTANCE_WITH_ENGINE_OPTIONS,
  INVALID_DRAIN_TIMEOUT,
  MISSING_ASYNC_FACTORY,
  NOT_AN_ENGINE,
} from './reseolio.messages.ts';
import { ReseolioOrchestrator } from './reseolio.orchestrator.ts';
import { ReseolioMetadataAccessor } from './reseolio-metadata.accessor.ts';

/** engine.stop() waits with a timer, which cannot wait longer (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Provides the Reseolio engine to the whole application (`global`), registers `@Durable()`
 * methods at module init, starts workers on bootstrap and drains them on shutdown (call
 * `app.enableShutdownHooks()` so SIGTERM/SIGINT close the application).
 */
@Module({})
export class ReseolioModule {
  static forRoot(options: ReseolioModuleOptions): DynamicModule {
    return buildModule([], [{ provide: RESEOLIO_MODULE_OPTIONS, useValue: options }]);
  }

  static forRootAsync(options: ReseolioModuleAsyncOptions): DynamicModule {
    return buildModule(options.imports ?? [], asyncOptionsProviders(options));
  }
}

/**
 * Builds (or borrows) the engine and connects storage before the application finishes
 * initializing, so an unreachable database fails `app.init()` instead of the first call.
 */
async function createEngine(options: ReseolioModuleOptions): Promise<Reseolio> {
  if (options.instance !== undefined) {
    const { instance, ...rest } = options;
    // An engine option set to undefined says nothing beside an instance: it is ignored.
    const extra = Object.entries(rest)
      .filter(([, value]) => value !== undefined)
      .map(([key]) => key);
    if (extra.length > 0) {
      throw new ReseolioValidationError(
        INSTANCE_WITH_ENGINE_OPTIONS(extra),
        'RESEOLIO_INVALID_OPTION',
      );
    }
    if (!(instance instanceof Reseolio)) {
      throw new ReseolioValidationError(NOT_AN_ENGINE(instance), 'RESEOLIO_INVALID_OPTION');
    }
    await instance.init();
    return instance;
  }
  const { instance: _instance, drainTimeoutMs, ...engineOptions } = options;
  if (
    drainTimeoutMs !== undefined &&
    !(Number.isInteger(drainTimeoutMs) && drainTimeoutMs >= 0 && drainTimeoutMs <= MAX_TIMER_MS)
  ) {
    throw new ReseolioValidationError(
      INVALID_DRAIN_TIMEOUT(drainTimeoutMs),
      'RESEOLIO_INVALID_OPTION',
    );
  }
  const engine = new Reseolio({
    ...engineOptions,
    logger: engineOptions.logger ?? new NestLoggerAdapter(),
  });
  await engine.init();
  return engine;
}

function buildModule(
  imports: DynamicModule['imports'],
  optionProviders: Provider[],
): DynamicModule {
  return {
    global: true,
    module: ReseolioModule,
    imports: [...(imports ?? []), DiscoveryModule],
    providers: [
      ...optionProviders,
      {
        provide: RESEOLIO_ENGINE,
        useFactory: createEngine,
        inject: [RESEOLIO_MODULE_OPTIONS],
      },
      DurableHandles,
      ReseolioMetadataAccessor,
      ReseolioExplorer,
      ReseolioOrchestrator,
    ],
    exports: [RESEOLIO_ENGINE, DurableHandles],
  };
}

/** Options providers as `@nestjs/schedule`'s `createAsyncOptionsProvider` builds them. */
function asyncOptionsProviders(options: ReseolioModuleAsyncOptions): Provider[] {
  if (options.useFactory) {
    return [
      {
        provide: RESEOLIO_MODULE_OPTIONS,
        useFactory: options.useFactory,
        inject: options.inject ?? [],
      },
    ];
  }
  const factoryClass = options.useClass ?? options.useExisting;
  if (!factoryClass)
    throw new ReseolioValidationError(MISSING_ASYNC_FACTORY(), 'RESEOLIO_INVALID_OPTION');
  const fromFactory: Provider = {
    provide: RESEOLIO_MODULE_OPTIONS,
    useFactory: (factory: ReseolioOptionsFactory) => factory.createReseolioOptions(),
    inject: [factoryClass],
  };
  // useExisting resolves a provider from `imports`; useClass makes the module own one.
  return options.useClass
    ? [fromFactory, { provide: options.useClass, useClass: options.useClass as Type }]
    : [fromFactory];
}
