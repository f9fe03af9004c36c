import { fileURLToPath } from 'node:url';
import reseolio from '@reseolio/fastify';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { ShopConfig } from './config.ts';
import { openDatabase } from './db/open.ts';
import type { ShopDatabase } from './db/repository.ts';
import type { ShopDeps } from './deps.ts';
import { declareSalesReport } from './durable/sales-report.ts';
import { shopRoutes } from './http/routes.ts';
import { webhookReceiver } from './http/webhook-receiver.ts';
import { Carrier } from './services/carrier.ts';
import { ImageService } from './services/image-service.ts';
import { Mailer } from './services/mailer.ts';
import { PaymentGateway } from './services/payment-gateway.ts';
import { CATALOGUE, createShop, type Shop } from './shop.ts';

/** The same relative path from src/app.ts and dist/app.js. */
const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

export interface ShopApp {
  app: FastifyInstance;
  shop: Shop;
  deps: ShopDeps;
  database: ShopDatabase;
  /** Stops the app (draining running jobs), then closes the database; once, however often called. */
  close(): Promise<void>;
}

/**
 * Builds the shop: opens the database, registers `@reseolio/fastify` on it, the durable
 * functions, the routes and the webhook receiver. Workers start when the app is ready.
 */
export async function buildApp(
  config: ShopConfig,
  options: { logger?: boolean | { level: string } } = {},
): Promise<ShopApp> {
  const database = await openDatabase(config);
  const app = Fastify({ logger: options.logger ?? false });
  try {
    await app.register(reseolio, {
      // The adapter shares the shop's connection (SQLite) or pool (PostgreSQL). It is passed
      // as an instance, so the engine borrows it and `close()` below closes it after the drain.
      storage: database.storage,
      workerConcurrency: config.workerConcurrency,
      leaseMs: config.leaseMs,
      // The jobs' own API, for the page's "retry" buttons and for curious users.
      routes: { prefix: '/jobs', authorize: isLocalRequest },
      // Prometheus text at /metrics, behind the same check as the job routes.
      metrics: true,
      // The dashboard at /dashboard/ (jobs, the checkout saga's tree, attempts, schedules and
      // actions), behind the same check too.
      dashboard: true,
    });

    const faults = { ...config.faults };
    const { repo } = database;
    const deps: ShopDeps = {
      repo,
      faults,
      gateway: new PaymentGateway(repo, faults),
      carrier: new Carrier(repo, faults),
      mailer: new Mailer(repo, faults),
      images: new ImageService(faults),
      delivery: { autoConfirmMs: config.deliveryAutoConfirmMs },
      webhook: { secret: config.webhookSecret, url: () => webhookUrl(app) },
    };
    const shop = createShop(app.reseolio, deps);

    await app.register(webhookReceiver, { repo, faults, secret: config.webhookSecret });
    await app.register(shopRoutes, { shop, deps, publicDir: PUBLIC_DIR });

    await repo.seedProducts(CATALOGUE);
    // Declared at every start: an upsert, so a schedule paused at runtime stays paused.
    await declareSalesReport(app.reseolio, shop.sendSalesReport);
    app.addHook('onReady', async () => {
      const recovered = await shop.recoverPlacedOrders();
      if (recovered > 0) app.log.info(`re-enqueued the sagas of ${recovered} placed orders`);
    });
    await app.ready();

    let closing: Promise<void> | undefined;
    return {
      app,
      shop,
      deps,
      database,
      // Once: a second call (a test's cleanup after a restart, a second signal) awaits the first.
      close: () => {
        closing ??= (async () => {
          await app.close();
          await database.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await app.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}

/**
 * The job routes and the dashboard show job arguments and errors: this demo serves them to
 * localhost only.
 */
function isLocalRequest(request: FastifyRequest): boolean {
  return ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(request.ip);
}

/** Webhooks go to the app's own receiver, wherever it ended up listening. */
function webhookUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('the shop is not listening yet, so its webhook receiver cannot be reached');
  }
  return `http://127.0.0.1:${address.port}/webhooks/orders`;
}
