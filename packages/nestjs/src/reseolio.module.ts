import {
  type DynamicModule,
  Inject,
  Logger,
  Module,
  type NestModule,
  Optional,
  type Provider,
  type Type,
} from '@nestjs/common';
import { DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import type { Reseolio } from 'reseolio';
import {
  createDashboardRequestHandler,
  createJobRouteHandler,
  createScheduleRouteHandler,
  EngineLifecycle,
  IntegrationConfigError,
  loadDashboardPackage,
  type ResolvedDashboardOptions,
  renameDeprecatedOptions,
  resolveDashboardOptions,
  resolveEngineBinding,
  resolveJobApiOptions,
  resolveMetricsOptions,
} from 'reseolio/http';
import { DurableHandles } from './durable-handles.ts';
import type {
  ReseolioModuleAsyncOptions,
  ReseolioModuleOptions,
  ReseolioOptionsFactory,
} from './interfaces/reseolio-module-options.interface.ts';
import {
  RESEOLIO_DASHBOARD,
  RESEOLIO_DASHBOARD_CONTROLLER,
  RESEOLIO_ENGINE,
  RESEOLIO_JOB_ROUTES,
  RESEOLIO_LIFECYCLE,
  RESEOLIO_LOGGER_CONTEXT,
  RESEOLIO_METRICS_OPTIONS,
  RESEOLIO_MODULE_OPTIONS,
  RESEOLIO_SCHEDULE_ROUTES,
} from './reseolio.constants.ts';
import { ReseolioExplorer } from './reseolio.explorer.ts';
import {
  DASHBOARD_FROM_ASYNC_FACTORY,
  METRICS_FROM_ASYNC_FACTORY,
  MISSING_ASYNC_FACTORY,
  ROUTES_FROM_ASYNC_FACTORY,
} from './reseolio.messages.ts';
import { ReseolioOrchestrator } from './reseolio.orchestrator.ts';
import {
  createDashboardController,
  spellDashboardWildcard,
} from './reseolio-dashboard.controller.ts';
import {
  createJobRoutesController,
  createScheduleRoutesController,
} from './reseolio-job-routes.controller.ts';
import { ReseolioMetadataAccessor } from './reseolio-metadata.accessor.ts';
import { createMetricsController } from './reseolio-metrics.controller.ts';
import { ReseolioMetricsRoute } from './reseolio-metrics.route.ts';

const WHERE = 'ReseolioModule options';

/**
 * Provides the Reseolio engine to the whole application (`global`), registers `@Durable()`
 * methods at module init, starts workers on bootstrap and drains them on shutdown (call
 * `app.enableShutdownHooks()` so SIGTERM/SIGINT close the application), serves the job
 * and schedule routes when `routes` is given, the Prometheus metrics with `metrics`, and the
 * dashboard with `dashboard`.
 */
@Module({})
export class ReseolioModule implements NestModule {
  constructor(
    @Optional()
    @Inject(RESEOLIO_DASHBOARD_CONTROLLER)
    private readonly dashboardController?: Type,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /**
   * Nest calls this once the HTTP platform is known and before it reads the controllers'
   * routes: the one moment to spell the dashboard's catch-all route for that platform.
   */
  configure(): void {
    if (this.dashboardController === undefined) return;
    spellDashboardWildcard(this.dashboardController, this.adapterHost?.httpAdapter?.getType());
  }

  static forRoot(options: ReseolioModuleOptions): DynamicModule {
    return buildModule([], [{ provide: RESEOLIO_MODULE_OPTIONS, useValue: options }], options);
  }

  static forRootAsync(options: ReseolioModuleAsyncOptions): DynamicModule {
    return buildModule(options.imports ?? [], asyncOptionsProviders(options), options);
  }
}

/**
 * Builds (or borrows) the engine and connects storage before the application finishes
 * initializing, so an unreachable database fails `app.init()` instead of the first call.
 * The option rules are the ones `@reseolio/fastify` and `@reseolio/express` share.
 */
async function openEngine(options: ReseolioModuleOptions): Promise<EngineLifecycle> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new IntegrationConfigError(
      `${WHERE} must be an object: engine options such as { storage }, or { instance }.`,
    );
  }
  const renamed = renameDeprecatedOptions(
    options as unknown as Record<string, unknown>,
    '@reseolio/nestjs',
    WHERE,
  );
  const binding = resolveEngineBinding(renamed, WHERE, {
    ownKeys: ['routes', 'metrics', 'dashboard'],
  });
  // Nest's Logger fits the engine's logger as it is, and follows the app's `useLogger()`.
  return EngineLifecycle.open(binding, { logger: new Logger(RESEOLIO_LOGGER_CONTEXT) });
}

function buildModule(
  imports: DynamicModule['imports'],
  optionProviders: Provider[],
  {
    routes,
    metrics,
    dashboard,
  }: Pick<ReseolioModuleOptions, 'routes' | 'metrics' | 'dashboard'> = {},
): DynamicModule {
  // Controllers are declared with the module, before any provider exists: the routes'
  // options are read now, and a mistake throws here, where the module is imported.
  const api =
    routes === undefined || routes === false ? null : resolveJobApiOptions(routes, 'routes');
  // Behind the job routes' authorize unless it has its own (or public: true).
  const metricsApi = resolveMetricsOptions(metrics, 'metrics', { inherited: api?.authorize });
  // The same rule: a dashboard shows job data, so it is never open by accident.
  const dashboardApi = resolveDashboardOptions(dashboard, 'dashboard', {
    inherited: api?.authorize,
  });
  const controllers: Type[] = [];
  const routeProviders: Provider[] = [];
  if (api) {
    controllers.push(createJobRoutesController(api.prefix!));
    routeProviders.push({
      provide: RESEOLIO_JOB_ROUTES,
      useFactory: (engine: Reseolio) => createJobRouteHandler(engine, api),
      inject: [RESEOLIO_ENGINE],
    });
  }
  if (api?.schedulePrefix) {
    controllers.push(createScheduleRoutesController(api.schedulePrefix));
    routeProviders.push({
      provide: RESEOLIO_SCHEDULE_ROUTES,
      useFactory: (engine: Reseolio) => createScheduleRouteHandler(engine, api),
      inject: [RESEOLIO_ENGINE],
    });
  }
  if (metricsApi) {
    controllers.push(createMetricsController(metricsApi.path!));
    routeProviders.push(
      { provide: RESEOLIO_METRICS_OPTIONS, useValue: metricsApi },
      ReseolioMetricsRoute,
    );
  }
  if (dashboardApi) {
    const controller = createDashboardController(dashboardApi.prefix!);
    controllers.push(controller);
    routeProviders.push({ provide: RESEOLIO_DASHBOARD_CONTROLLER, useValue: controller });
    routeProviders.push({
      provide: RESEOLIO_DASHBOARD,
      useFactory: (engine: Reseolio) => dashboardHandler(engine, dashboardApi),
      inject: [RESEOLIO_ENGINE],
    });
  }
  return {
    global: true,
    module: ReseolioModule,
    imports: [...(imports ?? []), DiscoveryModule],
    controllers,
    providers: [
      ...optionProviders,
      { provide: RESEOLIO_LIFECYCLE, useFactory: openEngine, inject: [RESEOLIO_MODULE_OPTIONS] },
      {
        provide: RESEOLIO_ENGINE,
        useFactory: (lifecycle: EngineLifecycle) => lifecycle.engine,
        inject: [RESEOLIO_LIFECYCLE],
      },
      ...routeProviders,
      DurableHandles,
      ReseolioMetadataAccessor,
      ReseolioExplorer,
      ReseolioOrchestrator,
    ],
    exports: [RESEOLIO_ENGINE, DurableHandles],
  };
}

/**
 * The dashboard's request handler. `@reseolio/dashboard` is an optional peer, loaded only
 * when asked for; a missing package fails `app.init()` with a message that says to install it.
 */
async function dashboardHandler(engine: Reseolio, options: ResolvedDashboardOptions<unknown>) {
  const dashboardPackage = await loadDashboardPackage(
    () => import('@reseolio/dashboard'),
    '@reseolio/nestjs',
  );
  return createDashboardRequestHandler(
    dashboardPackage,
    engine,
    options,
    new Logger(RESEOLIO_LOGGER_CONTEXT),
  );
}

/** Options providers as `@nestjs/schedule`'s `createAsyncOptionsProvider` builds them. */
function asyncOptionsProviders(options: ReseolioModuleAsyncOptions): Provider[] {
  if (options.useFactory) {
    const factory = options.useFactory;
    return [
      {
        provide: RESEOLIO_MODULE_OPTIONS,
        useFactory: async (...args: unknown[]) => withoutRoutes(await factory(...args)),
        inject: options.inject ?? [],
      },
    ];
  }
  const factoryClass = options.useClass ?? options.useExisting;
  if (!factoryClass) throw new IntegrationConfigError(MISSING_ASYNC_FACTORY());
  const fromFactory: Provider = {
    provide: RESEOLIO_MODULE_OPTIONS,
    useFactory: async (factory: ReseolioOptionsFactory) =>
      withoutRoutes(await factory.createReseolioOptions()),
    inject: [factoryClass],
  };
  // useExisting resolves a provider from `imports`; useClass makes the module own one.
  return options.useClass
    ? [fromFactory, { provide: options.useClass, useClass: options.useClass as Type }]
    : [fromFactory];
}

/**
 * The controllers exist before the factory runs, so routes, metrics or a dashboard from it
 * could not be served.
 */
function withoutRoutes(options: ReseolioModuleOptions): ReseolioModuleOptions {
  if (options?.routes !== undefined) throw new IntegrationConfigError(ROUTES_FROM_ASYNC_FACTORY());
  if (options?.metrics !== undefined) {
    throw new IntegrationConfigError(METRICS_FROM_ASYNC_FACTORY());
  }
  if (options?.dashboard !== undefined) {
    throw new IntegrationConfigError(DASHBOARD_FROM_ASYNC_FACTORY());
  }
  return options;
}
