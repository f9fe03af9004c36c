import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Reseolio } from 'reseolio';
import { fastifyLogger } from './logger.ts';
import { resolvePluginOptions } from './options.ts';
import { jobRoutes } from './routes.ts';
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
    throw new Error('@reseolio/fastify has already been registered');
  }
  const options = resolvePluginOptions(rawOptions);
  const source = options.engine;
  const engine =
    source.kind === 'borrowed'
      ? source.instance
      : new Reseolio({
          logger: fastifyLogger(app.log),
          ...source.options,
          // Fastify's owner handles signals and calls app.close(); the engine must not race it.
          handleSignals: false,
        });
  const stopsEngine = source.kind === 'owned' || source.close;

  try {
    await engine.init();
  } catch (error) {
    // Nothing else will stop an engine whose registration failed: no onClose hook exists yet.
    if (source.kind === 'owned') await engine.stop({ timeoutMs: 0 }).catch(() => {});
    throw error;
  }

  app.decorate('reseolio', engine);

  app.addHook('onReady', async () => {
    await engine.start();
  });

  // The one teardown hook. engine.stop() does the steps in the order that matters: stop
  // claiming, let in-flight jobs finish (or hand them back at the deadline), then close the
  // storage it opened. Several onClose hooks would leave that order to registration order.
  app.addHook('onClose', async () => {
    if (stopsEngine) await engine.stop({ timeoutMs: options.stopTimeoutMs });
  });

  if (options.routes) {
    await app.register(jobRoutes(engine, options.routes), { prefix: options.routes.prefix });
  }
}

/** The plugin wrapped with `fastify-plugin`, so `app.reseolio` is visible to the whole app. */
export const reseolio = fp(reseolioPlugin, { fastify: '5.x', name: '@reseolio/fastify' });
