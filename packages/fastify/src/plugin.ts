import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import {
  createDashboardRequestHandler,
  EngineLifecycle,
  IntegrationConfigError,
  loadDashboardPackage,
  PrometheusExporter,
} from 'reseolio/http';
import { resolvePluginOptions } from './options.ts';
import { dashboardRoutes, jobRoutes, metricsRoute, scheduleRoutes } from './routes.ts';
import type { ReseolioPluginOptions } from './types.ts';

/**
 * Decorates `app.reseolio`, starts workers when the app is ready and drains them on close.
 * Storage is opened and migrated during registration so a bad database fails `app.ready()`.
 */
export async function reseolioPlugin(
  app: FastifyInstance,
  rawOptions: ReseolioPluginOptions,
): Promise<void> {
  if (app.hasDecorator('reseolio')) {
    throw new IntegrationConfigError(
      '@reseolio/fastify has already been registered: register it once, on the root instance ' +
        '(app.reseolio is then visible in every plugin).',
    );
  }
  const options = resolvePluginOptions(rawOptions);
  // An optional peer, loaded only when asked for: a missing package fails here, at
  // registration, before any storage is opened.
  const dashboardPackage = options.dashboard
    ? await loadDashboardPackage(() => import('@reseolio/dashboard'), '@reseolio/fastify')
    : null;
  const lifecycle = await EngineLifecycle.open(
    options.binding,
    // A pino logger (Fastify's) fits the engine's logger as it is: lines about a job carry
    // jobId, jobName and attempt as fields of the JSON line.
    { logger: app.log.child({ plugin: '@reseolio/fastify' }) },
    // Fastify's owner handles signals and calls app.close(); the engine must not race it.
    { handleSignals: false },
  );
  const engine = lifecycle.engine;
  // Made before the engine starts, so its counters see every job this app runs.
  const exporter = options.metrics
    ? new PrometheusExporter(engine, { processMetrics: options.metrics.processMetrics })
    : null;

  app.decorate('reseolio', engine);

  app.addHook('onReady', async () => {
    await lifecycle.start();
  });

  // The one teardown hook. engine.stop() does the steps in the order that matters: stop
  // claiming, let in-flight jobs finish (or hand them back at the deadline), then close the
  // storage it opened. Several onClose hooks would leave that order to registration order.
  app.addHook('onClose', async () => {
    await lifecycle.stop();
    exporter?.close();
  });

  if (options.routes) {
    await app.register(jobRoutes(engine, options.routes), { prefix: options.routes.prefix });
    if (options.routes.schedulePrefix !== null) {
      await app.register(scheduleRoutes(engine, options.routes), {
        prefix: options.routes.schedulePrefix,
      });
    }
  }
  if (exporter && options.metrics) await app.register(metricsRoute(exporter, options.metrics));
  if (dashboardPackage && options.dashboard) {
    const handle = createDashboardRequestHandler(
      dashboardPackage,
      engine,
      options.dashboard,
      app.log.child({ plugin: '@reseolio/dashboard' }),
    );
    await app.register(dashboardRoutes(handle, options.dashboard.prefix));
  }
}

/** The plugin wrapped with `fastify-plugin`, so `app.reseolio` is visible to the whole app. */
export const reseolio = fp(reseolioPlugin, { fastify: '5.x', name: '@reseolio/fastify' });
