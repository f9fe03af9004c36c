import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  type JobDetails,
  JobFailedError,
  JobNotFoundError,
  ReseolioStateError,
  ResultTimeoutError,
  toJSONValue,
} from 'reseolio';
import { auditShop } from '../audit.ts';
import type { Order } from '../db/repository.ts';
import type { ShopDeps } from '../deps.ts';
import { DELIVERY_CONFIRMED, type DeliveryConfirmation } from '../durable/delivery.ts';
import { IMAGE_SIZES } from '../durable/product-images.ts';
import { SALES_REPORT_SCHEDULE } from '../durable/sales-report.ts';
import { parseFaults } from '../services/faults.ts';
import type { Shop } from '../shop.ts';

const STATIC_FILES: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The shop's HTTP API and its page. */
export async function shopRoutes(
  app: FastifyInstance,
  { shop, deps, publicDir }: { shop: Shop; deps: ShopDeps; publicDir: string },
): Promise<void> {
  const { repo } = deps;

  for (const [path, file] of Object.entries(STATIC_FILES)) {
    app.get(path, async (_request, reply) => {
      const type = CONTENT_TYPES[file.split('.').pop()!]!;
      return reply.type(type).send(await readFile(join(publicDir, file)));
    });
  }

  app.get('/api/health', async () => ({ ok: true, database: repo.dialect }));

  app.get('/api/products', async () => {
    const [products, images] = await Promise.all([repo.listProducts(), repo.listImageSizes()]);
    return {
      products: products.map((p) => ({
        ...p,
        images: images
          .filter((i) => i.productId === p.id)
          .map((i) => i.size)
          .sort((a, b) => a - b),
      })),
    };
  });

  // Pattern 4: fan-out. Answers at once with the parent job; the page watches it.
  app.post<{ Params: { id: string } }>('/api/products/:id/images', async (request, reply) => {
    const product = await repo.getProduct(request.params.id);
    if (!product) return reply.code(404).send({ error: 'no such product' });
    const handle = await shop.processProductImages(product.id, {
      idempotencyKey: `images-${product.id}`,
    });
    return reply.code(202).send({ jobId: handle.jobId, sizes: IMAGE_SIZES });
  });

  // Pattern 8: the page shows an image job's progress (renditions done) while it runs.
  app.get<{ Params: { jobId: string } }>('/api/image-jobs/:jobId', async (request, reply) => {
    const details = await app.reseolio
      .getHandle(request.params.jobId)
      .details()
      .catch((error: unknown) => {
        if (error instanceof JobNotFoundError) return undefined;
        throw error;
      });
    if (details?.name !== 'catalog:images:process') {
      return reply.code(404).send({ error: 'no such image job' });
    }
    return { status: details.status, progress: details.progress };
  });

  app.get<{ Params: { productId: string; file: string } }>(
    '/images/:productId/:file',
    async (request, reply) => {
      const size = Number(/^(\d+)\.svg$/.exec(request.params.file)?.[1]);
      const image = Number.isInteger(size)
        ? await repo.getImage(request.params.productId, size)
        : undefined;
      if (!image) return reply.code(404).send({ error: 'not processed yet' });
      return reply.type('image/svg+xml').send(image.svg);
    },
  );

  // Pattern 1: fire and forget. The response does not wait for the email.
  app.post<{ Body: { email: string; name: string } }>(
    '/api/signup',
    {
      schema: {
        body: {
          type: 'object',
          required: ['email', 'name'],
          properties: {
            email: { type: 'string', minLength: 3, maxLength: 200, pattern: '@' },
            name: { type: 'string', minLength: 1, maxLength: 100 },
          },
        },
      },
    },
    async (request, reply) => {
      const { user, created } = await repo.upsertUser({
        id: `usr_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
        email: request.body.email,
        name: request.body.name,
      });
      const handle = await shop.sendWelcomeEmail(user.id);
      return reply.code(created ? 201 : 200).send({ userId: user.id, welcomeJobId: handle.jobId });
    },
  );

  // Pattern 3: the saga. Stores the order, starts its saga, answers 202 at once.
  app.post<{
    Body: { productId: string; quantity?: number; email?: string; card?: string; address?: string };
  }>(
    '/api/orders',
    {
      schema: {
        body: {
          type: 'object',
          required: ['productId'],
          properties: {
            productId: { type: 'string', maxLength: 100 },
            quantity: { type: 'integer', minimum: 1, maximum: 10 },
            email: { type: 'string', maxLength: 200 },
            card: { type: 'string', maxLength: 30 },
            address: { type: 'string', maxLength: 300 },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const order = await shop.placeOrder({
        productId: body.productId,
        quantity: body.quantity ?? 1,
        email: body.email || 'shopper@example.com',
        card: body.card || '4242424242424242',
        address: body.address || '1 Durable Street, Leaseville',
      });
      if (!order) return reply.code(404).send({ error: 'no such product' });
      return reply.code(202).send({
        orderId: order.id,
        jobId: order.sagaJobId,
        trackingUrl: `/api/orders/${order.id}`,
      });
    },
  );

  app.get<{ Querystring: { limit?: number } }>(
    '/api/orders',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 200 } },
        },
      },
    },
    async (request) => {
      const orders = await repo.listOrders(request.query.limit ?? 20);
      return { orders: await withSteps(orders) };
    },
  );

  app.get<{ Params: { id: string } }>('/api/orders/:id', async (request, reply) => {
    const order = await repo.getOrder(request.params.id);
    if (!order) return reply.code(404).send({ error: 'no such order' });
    const [withJobs] = await withSteps([order]);
    return withJobs;
  });

  // Pattern 2: await result. Starts (or finds) the invoice job and waits for its URL.
  app.get<{ Params: { id: string } }>('/api/orders/:id/invoice', async (request, reply) => {
    const order = await repo.getOrder(request.params.id);
    if (!order) return reply.code(404).send({ error: 'no such order' });
    if (order.status !== 'fulfilled') {
      return reply
        .code(409)
        .send({ error: `order is ${order.status}; invoices are for fulfilled orders` });
    }
    const handle = await shop.generateInvoice(order.id, { idempotencyKey: `invoice-${order.id}` });
    try {
      return await handle.result(15_000);
    } catch (error) {
      if (error instanceof ResultTimeoutError) {
        return reply
          .code(504)
          .send({ error: 'invoice still rendering, try again', jobId: handle.jobId });
      }
      if (error instanceof JobFailedError) return reply.code(500).send({ error: error.message });
      throw error;
    }
  });

  // Pattern 6: the customer's click is a signal to the order's waiting delivery workflow.
  // 202: the signal is stored (the job wakes and records the delivery). A repeat before the
  // delivery is recorded is the same signal (its idempotency key), so it is a harmless 202 too;
  // once the order is delivered, or before it is fulfilled, there is nothing waiting: 409.
  app.post<{ Params: { id: string } }>(
    '/api/orders/:id/confirm-delivery',
    async (request, reply) => {
      const order = await repo.getOrder(request.params.id);
      if (!order) return reply.code(404).send({ error: 'no such order' });
      if (order.status !== 'fulfilled' || order.deliveryJobId === null) {
        return reply
          .code(409)
          .send({ error: `order is ${order.status}; only a fulfilled order awaits its delivery` });
      }
      if (order.deliveredAt !== null) {
        return reply.code(409).send({
          error: `order was delivered already (confirmed by ${order.deliveryConfirmedBy})`,
        });
      }
      const confirmation: DeliveryConfirmation = { at: Date.now() };
      try {
        const { duplicate } = await app.reseolio.signal(
          order.deliveryJobId,
          DELIVERY_CONFIRMED,
          confirmation,
          { idempotencyKey: `confirm-${order.id}` },
        );
        return reply.code(202).send({ jobId: order.deliveryJobId, duplicate });
      } catch (error) {
        // The job ended between the read above and the signal (it timed out and confirmed).
        if (error instanceof ReseolioStateError || error instanceof JobNotFoundError) {
          return reply.code(409).send({ error: 'no delivery is waiting for this order' });
        }
        throw error;
      }
    },
  );

  app.get<{ Params: { id: string } }>('/invoices/:id', async (request, reply) => {
    const invoice = await repo.getInvoice(request.params.id);
    if (!invoice) return reply.code(404).send({ error: 'no invoice yet' });
    return reply.type('text/html; charset=utf-8').send(invoice.html);
  });

  app.get('/api/emails', async () => ({ emails: await repo.listEmails(15) }));

  // The daily sales report's schedule, and one run of it now.
  app.get('/api/reports/sales', async () => app.reseolio.getSchedule(SALES_REPORT_SCHEDULE));
  app.post('/api/reports/sales/run', async (_request, reply) => {
    const run = await app.reseolio.triggerSchedule(SALES_REPORT_SCHEDULE);
    return reply.code(202).send({ jobId: run.jobId });
  });

  app.get('/api/faults', async () => deps.faults);
  app.put('/api/faults', async (request, reply) => {
    try {
      // Mutate in place: the fake services hold this very object.
      Object.assign(deps.faults, parseFaults(request.body, deps.faults));
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
    return deps.faults;
  });

  app.get('/api/audit', async () => auditShop(repo, app.reseolio));

  /** Each order with the live state of every job its saga started, and of its delivery. */
  async function withSteps(orders: Order[]) {
    const steps = await repo.listSteps(orders.map((o) => o.id));
    const jobIds = [
      ...new Set([
        ...steps.map((s) => s.jobId),
        ...orders.flatMap((o) => [o.sagaJobId ?? [], o.deliveryJobId ?? []].flat()),
      ]),
    ];
    const details = new Map<string, JobDetails>();
    await Promise.all(
      jobIds.map(async (id) => {
        details.set(id, await app.reseolio.getHandle(id).details());
      }),
    );
    const summary = (jobId: string | null) => {
      const job = jobId ? details.get(jobId) : undefined;
      if (!job) return null;
      return {
        jobId: job.id,
        status: job.status,
        attempt: job.attempt,
        maxAttempts: job.maxAttempts,
        error: job.error ? job.error.message : null,
        result: toJSONValue(job.result),
        // While `waiting`: what for, e.g. { kind: 'signal', topic, until }.
        waitingFor: toJSONValue(job.waitingFor),
      };
    };
    return orders.map((order) => ({
      ...order,
      saga: summary(order.sagaJobId),
      delivery: summary(order.deliveryJobId),
      steps: Object.fromEntries(
        steps.filter((s) => s.orderId === order.id).map((s) => [s.step, summary(s.jobId)]),
      ),
    }));
  }
}
