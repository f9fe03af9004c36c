/**
 * Every pattern and scenario of the usage guide (shared/seeds/usage-patterns.md), with the
 * snippets kept as close to the guide as a test allows, on real SQLite files. `db`, `stripe`,
 * `emailService`… are fakes that count side effects (see fakes.ts).
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  JobFailedError,
  PayloadTooLargeError,
  Reseolio,
  reportProgress,
  sleep,
  step,
  waitForSignal,
} from 'reseolio';
import { describe, expect, it } from 'vitest';
import { makeApp, makeFakes } from './fakes.ts';
import { BACKENDS, engineOn, onCleanup, waitFor } from './helpers.ts';

/** Pattern 3's steps and orchestrator, registered on one engine exactly as the guide does. */
function registerCheckout(
  reseolio: ReturnType<typeof engineOn>,
  fakes: ReturnType<typeof makeFakes>,
) {
  const { db, stripe, inventory, shippingService, emailService } = fakes;
  const crash = { afterPaymentEnqueued: false, beforeFinalUpdate: false };

  const chargePayment = reseolio.durable(
    reseolio.namespace('orders', 'payment', 'charge'),
    async (orderId: string) => {
      const order = await db.orders.findById(orderId);
      const result = await stripe.charges.create(
        { amount: order.total, customer: order.customerId },
        { idempotencyKey: `order-${orderId}-charge` },
      );
      await db.orders.update(orderId, { paymentId: result.id });
      return { paymentId: result.id };
    },
    { maxAttempts: 3, backoff: 'exponential' },
  );

  const reserveInventory = reseolio.durable(
    reseolio.namespace('orders', 'inventory', 'reserve'),
    async (orderId: string) => {
      const order = await db.orders.findById(orderId);
      if (order.inventoryReserved) return { alreadyReserved: true };
      await inventory.reserve(order.items);
      await db.orders.update(orderId, { inventoryReserved: true });
      return { reserved: true };
    },
    { maxAttempts: 5, backoff: 'exponential' },
  );

  const createShippingLabel = reseolio.durable(
    reseolio.namespace('orders', 'shipping', 'label'),
    async (orderId: string) => {
      const order = await db.orders.findById(orderId);
      if (order.shippingLabelUrl) return { url: order.shippingLabelUrl };
      const label = await shippingService.createLabel(order.address);
      await db.orders.update(orderId, { shippingLabelUrl: label.url });
      return { url: label.url };
    },
  );

  const sendConfirmationEmail = reseolio.durable(
    reseolio.namespace('orders', 'notifications', 'confirmation'),
    async (orderId: string) => {
      const order = await db.orders.findById(orderId);
      await emailService.send({ to: order.email, template: 'order-confirmation', data: order });
      return { sent: true };
    },
  );

  let orchestratorRuns = 0;
  const processOrder = reseolio.durable(
    reseolio.namespace('orders', 'fulfillment', 'process'),
    async (orderId: string) => {
      orchestratorRuns += 1;
      const paymentHandle = await chargePayment(orderId, {
        idempotencyKey: `process-${orderId}-payment`,
      });
      if (crash.afterPaymentEnqueued) {
        crash.afterPaymentEnqueued = false;
        throw new Error('orchestrator died after payment was enqueued');
      }
      await paymentHandle.result();
      const inventoryHandle = await reserveInventory(orderId, {
        idempotencyKey: `process-${orderId}-inventory`,
      });
      await inventoryHandle.result();
      const shippingHandle = await createShippingLabel(orderId, {
        idempotencyKey: `process-${orderId}-shipping`,
      });
      const shippingResult = await shippingHandle.result();
      await sendConfirmationEmail(orderId);
      if (crash.beforeFinalUpdate) {
        crash.beforeFinalUpdate = false;
        throw new Error('server crashed before the final DB update');
      }
      await db.orders.update(orderId, { status: 'fulfilled' });
      return { status: 'fulfilled', shippingLabel: shippingResult.url };
    },
    { maxAttempts: 10, timeoutMs: 300000 },
  );

  const app = makeApp();
  app.post('/checkout', async (req, res) => {
    const order = await db.orders.create(req.body);
    const handle = await processOrder(order.id, { idempotencyKey: `checkout-${order.id}` });
    res.json({
      orderId: order.id,
      status: 'processing',
      trackingUrl: `/orders/${order.id}/status`,
      jobId: handle.jobId,
    });
  });

  return { app, crash, processOrder, runs: () => orchestratorRuns };
}

/** Waits until the saga's fire-and-forget confirmation job has succeeded. */
async function confirmationSent(reseolio: ReturnType<typeof engineOn>): Promise<void> {
  await waitFor(async () => {
    const [job] = await reseolio.listJobs({ name: 'orders:notifications:confirmation' });
    return job?.status === 'success';
  });
}

const orderBody = {
  total: 4200,
  customerId: 'cus_1',
  email: 'bob@example.com',
  items: ['sku-1'],
  address: '1 Main St',
};

describe.each(BACKENDS)('on $backend', ({ freshDatabase }) => {
  const openStorage = () => freshDatabase()();
  describe('Pattern 1: fire-and-forget', () => {
    it('responds at once and the welcome email is still sent', async () => {
      const { db, emailService, records } = makeFakes();
      const app = makeApp();
      const reseolio = engineOn(openStorage());
      await reseolio.start();

      const sendWelcomeEmail = reseolio.durable(
        reseolio.namespace('notifications', 'email', 'welcome'),
        async (userId: string) => {
          const user = await db.users.findById(userId);
          await emailService.send({ to: user.email, subject: 'Welcome!', template: 'welcome' });
          return { sent: true };
        },
        { maxAttempts: 3 },
      );

      app.post('/signup', async (req, res) => {
        const user = await db.users.create(req.body);
        await sendWelcomeEmail(user.id);
        res.json({ userId: user.id });
      });

      const res = await app.request('POST', '/signup', { body: { email: 'ada@example.com' } });
      expect(res.body).toEqual({ userId: 'u1' });
      // The email goes out before the job's success is committed: wait for the latter.
      const welcomeJobs = () => reseolio.listJobs({ name: 'notifications:email:welcome' });
      await waitFor(async () => (await welcomeJobs())[0]?.status === 'success');
      expect(records.emails).toHaveLength(1);
      expect(records.emails[0]).toEqual({
        to: 'ada@example.com',
        subject: 'Welcome!',
        template: 'welcome',
      });
      const [job] = await welcomeJobs();
      expect(job).toMatchObject({ status: 'success', result: { sent: true }, args: ['u1'] });
    });
  });

  describe('Pattern 2: await result', () => {
    it('redirects to the URL the durable report job returned', async () => {
      const { db, pdfGenerator, s3 } = makeFakes();
      const app = makeApp();
      const reseolio = engineOn(openStorage());
      await reseolio.start();

      const generateReport = reseolio.durable(
        reseolio.namespace('reports', 'pdf', 'generate'),
        async (reportId: string) => {
          const data = await db.reports.getData(reportId);
          const pdfBuffer = await pdfGenerator.create(data);
          const url = await s3.upload(`reports/${reportId}.pdf`, pdfBuffer);
          return { url, pages: data.length };
        },
        { timeoutMs: 60000 },
      );

      app.get('/reports/:id/download', async (req, res) => {
        const handle = await generateReport(req.params.id);
        const result = await handle.result(30000);
        res.redirect(result.url);
      });

      const res = await app.request('GET', '/reports/:id/download', { params: { id: 'r7' } });
      expect(res.redirectedTo).toBe('https://s3.example/reports/r7.pdf');
    });
  });

  describe('Pattern 3: chained durable functions (saga)', () => {
    it('runs every step once and fulfils the order', async () => {
      const fakes = makeFakes();
      const reseolio = engineOn(openStorage());
      const { app } = registerCheckout(reseolio, fakes);
      await reseolio.start();
      const res = await app.request('POST', '/checkout', { body: orderBody });
      const { orderId, jobId, status } = res.body as {
        orderId: string;
        jobId: string;
        status: string;
      };
      expect(status).toBe('processing');
      expect(await reseolio.getHandle(jobId).result(10_000)).toEqual({
        status: 'fulfilled',
        shippingLabel: fakes.records.labels[0],
      });
      expect(fakes.records.orders.get(orderId)?.status).toBe('fulfilled');
      expect(fakes.records.charges).toHaveLength(1);
      // The confirmation is fire-and-forget inside the saga: it may still be running.
      await confirmationSent(reseolio);
      expect(fakes.records.emails).toHaveLength(1);
    });

    it('a second checkout call with the same key returns the same job', async () => {
      const fakes = makeFakes();
      const reseolio = engineOn(openStorage());
      const { processOrder } = registerCheckout(reseolio, fakes);
      const handle = await processOrder('o-x', { idempotencyKey: 'checkout-o-x' });
      const handle2 = await processOrder('o-x', { idempotencyKey: 'checkout-o-x' });
      expect(handle.jobId === handle2.jobId).toBe(true);
    });

    it('orchestrator dies after payment enqueued: retried, same payment job, no double charge', async () => {
      const fakes = makeFakes();
      const reseolio = engineOn(openStorage());
      const { app, crash, runs } = registerCheckout(reseolio, fakes);
      crash.afterPaymentEnqueued = true;
      await reseolio.start();
      const { jobId } = (await app.request('POST', '/checkout', { body: orderBody })).body as {
        jobId: string;
      };
      await reseolio.getHandle(jobId).result(10_000);
      expect(runs()).toBe(2);
      expect(fakes.records.charges).toHaveLength(1);
      expect(await reseolio.listJobs({ name: 'orders:payment:charge' })).toHaveLength(1);
    });

    it('payment declined twice: the payment job retries with backoff while the orchestrator waits', async () => {
      const fakes = makeFakes();
      const reseolio = engineOn(openStorage());
      const { app, runs } = registerCheckout(reseolio, fakes);
      fakes.failures.charge.failNext(2, () => new Error('card declined'));
      await reseolio.start();
      const { jobId } = (await app.request('POST', '/checkout', { body: orderBody })).body as {
        jobId: string;
      };
      await reseolio.getHandle(jobId).result(10_000);
      const [payment] = await reseolio.listJobs({ name: 'orders:payment:charge' });
      expect(payment).toMatchObject({ status: 'success', attempt: 3 });
      expect(payment?.error?.message).toBe('card declined');
      expect(runs()).toBe(1);
      expect(fakes.records.charges).toHaveLength(1);
    });

    it('payment succeeds, inventory fails: inventory retries, payment is not charged again', async () => {
      const fakes = makeFakes();
      const reseolio = engineOn(openStorage());
      const { app } = registerCheckout(reseolio, fakes);
      fakes.failures.reserve.failNext(3);
      await reseolio.start();
      const { jobId } = (await app.request('POST', '/checkout', { body: orderBody })).body as {
        jobId: string;
      };
      await reseolio.getHandle(jobId).result(10_000);
      const [inventory] = await reseolio.listJobs({ name: 'orders:inventory:reserve' });
      expect(inventory).toMatchObject({ status: 'success', attempt: 4 });
      expect(fakes.records.charges).toHaveLength(1);
    });

    it('crash before the final DB update: children return cached results, the update runs', async () => {
      const fakes = makeFakes();
      const reseolio = engineOn(openStorage());
      const { app, crash, runs } = registerCheckout(reseolio, fakes);
      crash.beforeFinalUpdate = true;
      await reseolio.start();
      const { jobId, orderId } = (await app.request('POST', '/checkout', { body: orderBody }))
        .body as {
        jobId: string;
        orderId: string;
      };
      await reseolio.getHandle(jobId).result(10_000);
      expect(runs()).toBe(2);
      expect(fakes.records.charges).toHaveLength(1);
      expect(fakes.records.reserved).toHaveLength(1);
      expect(fakes.records.labels).toHaveLength(1);
      // The un-keyed confirmation email re-attached through its deterministic child key.
      await confirmationSent(reseolio);
      expect(await reseolio.listJobs({ name: 'orders:notifications:confirmation' })).toHaveLength(
        1,
      );
      expect(fakes.records.emails).toHaveLength(1);
      expect(fakes.records.orders.get(orderId)?.status).toBe('fulfilled');
    });

    it('the "one big function" anti-pattern really does charge twice on retry', async () => {
      const { stripe, inventory, records, failures } = makeFakes();
      const reseolio = engineOn(openStorage());
      const processOrder = reseolio.durable('process-order', async (orderId: string) => {
        await stripe.charges.create({ amount: 1, customer: orderId }, { idempotencyKey: 'none' });
        await inventory.reserve([orderId]);
      });
      failures.reserve.failNext(1);
      await reseolio.start();
      await (await processOrder('o1')).result(10_000);
      expect(records.charges).toHaveLength(2);
    });
  });

  describe('Pattern 4: fan-out', () => {
    it('processes every size in parallel and gathers the variants', async () => {
      const reseolio = engineOn(openStorage());
      const uploads: string[] = [];
      const storage = {
        async download(id: string) {
          return Buffer.from(id);
        },
        async upload(key: string, _body: Buffer) {
          uploads.push(key);
          return `https://cdn.example/${key}`;
        },
      };
      const sharp = (input: Buffer) => ({
        resize: (size: string) => ({
          toBuffer: async () => Buffer.concat([input, Buffer.from(size)]),
        }),
      });

      const processImage = reseolio.durable(
        reseolio.namespace('media', 'image', 'process'),
        async (imageId: string, size: string) => {
          const image = await storage.download(imageId);
          const resized = await sharp(image).resize(size).toBuffer();
          const url = await storage.upload(`${imageId}-${size}`, resized);
          return { size, url };
        },
      );

      const processAllSizes = reseolio.durable(
        reseolio.namespace('media', 'image', 'processAll'),
        async (imageId: string) => {
          const sizes = ['thumbnail', 'medium', 'large', 'original'];
          const handles = await Promise.all(
            sizes.map((size) =>
              processImage(imageId, size, { idempotencyKey: `${imageId}-${size}` }),
            ),
          );
          const results = await Promise.all(handles.map((h) => h.result()));
          return { variants: results };
        },
      );

      await reseolio.start();
      const result = await (await processAllSizes('img1')).result(10_000);
      expect(result.variants.map((v) => v.size)).toEqual([
        'thumbnail',
        'medium',
        'large',
        'original',
      ]);
      expect(uploads.sort()).toEqual([
        'img1-large',
        'img1-medium',
        'img1-original',
        'img1-thumbnail',
      ]);
    });
  });

  describe('Pattern 5: scheduled jobs (cron)', () => {
    it('declares the digest at every start, runs it on its ticks and on a trigger, and pauses it', async () => {
      const { db, emailService, records } = makeFakes();
      await db.orders.create({
        total: 10,
        customerId: 'c',
        email: 'a@b.c',
        items: [],
        address: 'x',
      });
      const reseolio = engineOn(openStorage());
      await reseolio.start();

      const sendDailyDigest = reseolio.durable(
        reseolio.namespace('reports', 'digest', 'send'),
        async (audience: string) => {
          const orders = await db.orders.findRecent();
          await emailService.send({
            to: audience,
            subject: 'Daily digest',
            template: 'digest',
            orders: orders.length,
          });
          return { orders: orders.length };
        },
      );

      const declare = (cron: string) =>
        reseolio.schedule('reports:digest:daily', sendDailyDigest, {
          cron,
          timezone: 'Europe/Berlin',
          args: ['managers@example.com'],
          catchUp: 'latest',
          overlap: 'skip',
        });
      const declared = await declare('0 8 * * *');
      // 08:00 in Berlin is 06:00 or 07:00 UTC.
      expect([6, 7]).toContain(declared.nextRunAt!.getUTCHours());
      expect(declared.nextRunAt!.getUTCMinutes()).toBe(0);

      const run = await reseolio.triggerSchedule('reports:digest:daily');
      expect(await run.result()).toEqual({ orders: 1 });
      expect(records.emails).toEqual([
        { to: 'managers@example.com', subject: 'Daily digest', template: 'digest', orders: 1 },
      ]);
      expect((await run.details()).scheduleId).toBe('reports:digest:daily');

      // The same declaration with a cron of every second (a test cannot wait for 08:00): the
      // ticks run, each once.
      await declare('* * * * * *');
      await waitFor(
        async () =>
          (await reseolio.listJobs({ scheduleId: 'reports:digest:daily', status: 'success' }))
            .length >= 3,
        { timeoutMs: 30_000, what: 'three digests from ticks' },
      );
      const paused = await reseolio.pauseSchedule('reports:digest:daily');
      expect(paused.status).toBe('paused');
      // Declared again at the next start: still paused.
      expect((await declare('* * * * * *')).status).toBe('paused');
      const runs = await reseolio.listJobs({ scheduleId: 'reports:digest:daily', limit: 1000 });
      const ticks = runs
        .filter((job) => job.idempotencyKey !== null)
        .map((job) => job.runAt.getTime());
      expect(new Set(ticks).size).toBe(ticks.length);
    });
  });

  describe('Pattern 6: durable workflows (steps, sleep, signals)', () => {
    /** The engine's clock moved by the test: a day passes at once. */
    function engineWithClock() {
      let offset = 0;
      const clock = { now: () => Date.now() + offset };
      const reseolio = new Reseolio(
        { storage: openStorage(), pollIntervalMs: 50, suspendAfterMs: 100 },
        clock,
      );
      onCleanup(() => reseolio.stop({ timeoutMs: 500 }));
      return { reseolio, advance: (ms: number) => (offset += ms) };
    }

    it('onboarding follow-ups: each sleep suspends the job, and each email is sent once', async () => {
      const { db, emailService, records } = makeFakes();
      const { reseolio, advance } = engineWithClock();
      await reseolio.start();

      const onboardingEmails = reseolio.durable(
        reseolio.namespace('onboarding', 'email', 'series'),
        async (userId: string) => {
          const user = await step('load-user', () => db.users.findById(userId));
          await step('welcome', () => emailService.send({ to: user.email, template: 'welcome' }));
          await sleep(24 * 3600_000);
          await step('tips-day-1', () =>
            emailService.send({ to: user.email, template: 'tips-day-1' }),
          );
          await sleep(2 * 24 * 3600_000);
          await step('tips-day-3', () =>
            emailService.send({ to: user.email, template: 'tips-day-3' }),
          );
          return { sent: 3 };
        },
      );

      const user = await db.users.create({ email: 'ada@example.com' });
      const handle = await onboardingEmails(user.id);
      const waitingAfter = async (emails: number) => {
        await waitFor(
          async () => (await handle.status()) === 'waiting' && records.emails.length === emails,
        );
        expect((await handle.details()).waitingFor?.kind).toBe('sleep');
      };
      await waitingAfter(1);
      advance(24 * 3600_000 + 1_000);
      await waitingAfter(2);
      advance(2 * 24 * 3600_000 + 1_000);
      expect(await handle.result(30_000)).toEqual({ sent: 3 });
      expect(records.emails).toEqual([
        { to: 'ada@example.com', template: 'welcome' },
        { to: 'ada@example.com', template: 'tips-day-1' },
        { to: 'ada@example.com', template: 'tips-day-3' },
      ]);
    });

    it('an order waits for its payment webhook (delivered twice: one signal), another times out', async () => {
      const { db } = makeFakes();
      const app = makeApp();
      const { reseolio, advance } = engineWithClock();
      await reseolio.start();

      const awaitPayment = reseolio.durable(
        reseolio.namespace('orders', 'payment', 'await'),
        async (orderId: string) => {
          const payment = await waitForSignal<{ paymentId: string }>('payment-confirmed', {
            timeoutMs: 3600_000,
          });
          if (payment === null) {
            await step('cancel', () => db.orders.update(orderId, { status: 'payment-timeout' }));
            return { paid: false };
          }
          await step('mark-paid', () =>
            db.orders.update(orderId, { paymentId: payment.paymentId }),
          );
          return { paid: true };
        },
      );
      const newOrder = () =>
        db.orders.create({ total: 10, customerId: 'c', email: 'a@b.c', items: [], address: 'x' });
      const paymentJobs = new Map<string, string>();

      app.post('/webhooks/payments', async (req, res) => {
        await reseolio.signal(
          paymentJobs.get(req.body.orderId)!,
          'payment-confirmed',
          { paymentId: req.body.id },
          { idempotencyKey: req.body.eventId },
        );
        res.sendStatus(204);
      });

      const paid = await newOrder();
      const handle = await awaitPayment(paid.id);
      paymentJobs.set(paid.id, handle.jobId);
      const webhook = { orderId: paid.id, id: 'pay_1', eventId: 'evt_1' };
      expect((await app.request('POST', '/webhooks/payments', { body: webhook })).status).toBe(204);
      expect((await app.request('POST', '/webhooks/payments', { body: webhook })).status).toBe(204);
      expect(await handle.result(30_000)).toEqual({ paid: true });
      expect((await db.orders.findById(paid.id)).paymentId).toBe('pay_1');

      const unpaid = await newOrder();
      const late = await awaitPayment(unpaid.id);
      await waitFor(async () => (await late.details()).waitingFor?.kind === 'signal');
      advance(3600_000 + 1_000);
      expect(await late.result(30_000)).toEqual({ paid: false });
      expect((await db.orders.findById(unpaid.id)).status).toBe('payment-timeout');
    });
  });

  describe('Pattern 7: flow control (priorities, concurrency and rate limits)', () => {
    it('exports run one at a time per customer, others are not held back, and enterprise goes first', async () => {
      const { db, s3 } = makeFakes();
      const storage = openStorage();
      const reseolio = engineOn(storage, { workerConcurrency: 0 });
      const intervals: { customerId: string; start: number; end: number }[] = [];
      let tick = 0;
      const exportReport = reseolio.durable(
        reseolio.namespace('reports', 'export', 'run'),
        async (customerId: string, reportId: string) => {
          const start = ++tick;
          const rows = await db.orders.findRecent();
          await s3.upload(
            `exports/${customerId}/${reportId}.json`,
            Buffer.from(JSON.stringify(rows)),
          );
          intervals.push({ customerId, start, end: ++tick });
          return { rows: rows.length };
        },
        { concurrency: { limit: 1, key: (customerId) => customerId } },
      );
      // Queued before any worker runs: a backlog, with the enterprise export enqueued last.
      const handles = [];
      for (let i = 0; i < 4; i++) {
        for (const customer of ['c-1', 'c-2', 'c-3']) {
          handles.push(await exportReport(customer, `r-${i}`, { priority: 0 }));
        }
      }
      const customer = { id: 'c-ent', plan: 'enterprise' };
      const report = { id: 'r-big' };
      const first = await exportReport(customer.id, report.id, {
        priority: customer.plan === 'enterprise' ? 10 : 0,
      });

      const worker = engineOn(storage, { workerConcurrency: 6 });
      worker.durable(
        reseolio.namespace('reports', 'export', 'run'),
        async (customerId: string, reportId: string) => {
          const start = ++tick;
          // A few turns, so that two exports of one customer would overlap if the limit let them.
          for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
          intervals.push({ customerId, start, end: ++tick });
          return { rows: reportId.length };
        },
        { concurrency: { limit: 1, key: (customerId: string) => customerId } },
      );
      await worker.start();
      await Promise.all([first, ...handles].map((h) => h.result(30_000)));
      expect(intervals).toHaveLength(13);
      expect(intervals.reduce((a, b) => (a.start < b.start ? a : b)).customerId).toBe('c-ent');
      for (const id of ['c-1', 'c-2', 'c-3']) {
        const mine = intervals.filter((r) => r.customerId === id).sort((a, b) => a.start - b.start);
        for (let i = 1; i < mine.length; i++)
          expect(mine[i]!.start).toBeGreaterThan(mine[i - 1]!.end);
      }
    });

    it('partner calls stay within 50 a second per partner; a web process enqueues by name with the key', async () => {
      const { partnerApi, records } = makeFakes();
      const storage = openStorage();
      const reseolio = engineOn(storage, { workerConcurrency: 10 });
      const syncPartner = reseolio.durable(
        reseolio.namespace('partners', 'api', 'sync'),
        async (partnerId: string, orderId: string) => partnerApi.sync(partnerId, orderId),
        { rateLimit: { limit: 50, periodMs: 1000, key: (partnerId) => partnerId } },
      );
      await reseolio.start();
      const handles = await syncPartner.enqueueMany(
        Array.from(
          { length: 120 },
          (_, i) => [i % 2 === 0 ? 'acme' : 'globex', `o-${i}`] as [string, string],
        ),
      );
      await Promise.all(handles.map((h) => h.result(30_000)));
      // Starts as the claims made them (`startedAt`, the database's time): handlers run a
      // claim's round trip later, which varies.
      const jobs = await reseolio.listJobs({ name: 'partners:api:sync', limit: 1000 });
      for (const partner of ['acme', 'globex']) {
        expect(records.partnerCalls.filter((c) => c.partnerId === partner)).toHaveLength(60);
        const times = jobs
          .filter((job) => job.rateLimitKey === partner)
          .map((job) => job.startedAt!.getTime());
        expect(times).toHaveLength(60);
        for (const at of times) {
          expect(times.filter((t) => t >= at && t < at + 1000).length).toBeLessThanOrEqual(50);
        }
      }
      expect((await handles[0]!.details()).rateLimitKey).toBe('acme');

      const web = engineOn(storage, { workerConcurrency: 0 });
      const customer = { id: 'c-7' };
      const report = { id: 'r-1' };
      const handle = await web.enqueue('reports:export:run', [customer.id, report.id], {
        concurrencyKey: customer.id,
      });
      reseolio.durable('reports:export:run', async (customerId: string) => customerId, {
        concurrency: { limit: 1, key: (customerId: string) => customerId },
      });
      expect(await handle.result(30_000)).toBe('c-7');
      expect((await handle.details()).concurrencyKey).toBe('c-7');
    });
  });

  describe('Scenario 1: webhook delivery', () => {
    it('retries a failing endpoint with exponential backoff and signs every delivery', async () => {
      const received: { signature: string; body: string }[] = [];
      let failuresLeft = 2;
      const server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk) => {
          body += chunk;
        });
        req.on('end', () => {
          received.push({ signature: String(req.headers['x-webhook-signature']), body });
          res.statusCode = failuresLeft-- > 0 ? 503 : 200;
          res.end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

      const webhooks = new Map([
        ['wh1', { url, payload: { event: 'order.paid' }, secret: 's3cret', status: 'pending' }],
      ]);
      const db = {
        webhooks: {
          async findById(id: string) {
            return webhooks.get(id)!;
          },
          async update(id: string, patch: object) {
            Object.assign(webhooks.get(id)!, patch);
          },
        },
      };
      const sign = (payload: unknown, secret: string) =>
        createHmac('sha256', secret).update(JSON.stringify(payload)).digest('hex');

      const reseolio = engineOn(openStorage());
      const deliverWebhook = reseolio.durable(
        reseolio.namespace('webhooks', 'delivery', 'send'),
        async (webhookId: string) => {
          const webhook = await db.webhooks.findById(webhookId);
          const response = await fetch(webhook.url, {
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              'X-Webhook-Signature': sign(webhook.payload, webhook.secret),
            },
            body: JSON.stringify(webhook.payload),
            signal: AbortSignal.timeout(10000),
          });
          if (!response.ok) throw new Error(`Webhook failed: ${response.status}`);
          await db.webhooks.update(webhookId, { deliveredAt: new Date(), status: 'delivered' });
          return { status: response.status };
        },
        { maxAttempts: 10, backoff: 'exponential', initialDelayMs: 50, maxDelayMs: 3600000 },
      );
      await reseolio.start();
      const handle = await deliverWebhook('wh1');
      expect(await handle.result(10_000)).toEqual({ status: 200 });
      expect(received).toHaveLength(3);
      const expected = sign({ event: 'order.paid' }, 's3cret');
      expect(received.every((r) => r.signature === expected)).toBe(true);
      expect(webhooks.get('wh1')?.status).toBe('delivered');
      expect((await handle.details()).error?.message).toBe('Webhook failed: 503');
    });
  });

  describe('Scenario 2: user onboarding pipeline', () => {
    it('creates the workspace, provisions storage, schedules emails and completes', async () => {
      const { db, emailService, storageService, records } = makeFakes();
      const reseolio = engineOn(openStorage());
      const createWorkspace = reseolio.durable(
        reseolio.namespace('onboarding', 'workspace', 'create'),
        async (userId: string) => {
          const workspace = await db.workspaces.create({ ownerId: userId });
          return { workspaceId: workspace.id };
        },
      );
      const provisionStorage = reseolio.durable(
        reseolio.namespace('onboarding', 'storage', 'provision'),
        async (userId: string, _workspaceId: string) => {
          await storageService.createBucket(`user-${userId}`);
          await storageService.setQuota(`user-${userId}`, '5GB');
          return { bucket: `user-${userId}` };
        },
      );
      const sendWelcomeSeries = reseolio.durable(
        reseolio.namespace('onboarding', 'email', 'welcome'),
        async (userId: string) => {
          const user = await db.users.findById(userId);
          await emailService.send(user.email, 'welcome');
          await emailService.scheduleEmail(user.email, 'tips-day-1', { delay: '1d' });
          await emailService.scheduleEmail(user.email, 'tips-day-3', { delay: '3d' });
          return { scheduled: true };
        },
      );
      const onboardUser = reseolio.durable(
        reseolio.namespace('onboarding', 'user', 'complete'),
        async (userId: string) => {
          const wsHandle = await createWorkspace(userId, {
            idempotencyKey: `onboard-${userId}-workspace`,
          });
          const { workspaceId } = await wsHandle.result();
          const storageHandle = await provisionStorage(userId, workspaceId, {
            idempotencyKey: `onboard-${userId}-storage`,
          });
          await storageHandle.result();
          await sendWelcomeSeries(userId, { idempotencyKey: `onboard-${userId}-emails` });
          await db.users.update(userId, { onboardingComplete: true });
          return { workspaceId, status: 'complete' };
        },
      );
      await reseolio.start();
      const user = await db.users.create({ email: 'eve@example.com' });
      expect(await (await onboardUser(user.id)).result(10_000)).toEqual({
        workspaceId: `w-${user.id}`,
        status: 'complete',
      });
      expect(records.users.get(user.id)?.onboardingComplete).toBe(true);
      expect(records.buckets).toEqual([`user-${user.id}`]);
      await waitFor(() => records.emails.length === 3);
    });
  });

  describe('Scenario 3: batch processing with progress tracking', () => {
    it('fans out every item, tolerates failures with allSettled and records progress', async () => {
      const items = Array.from({ length: 8 }, (_, i) => ({
        id: `i${i}`,
        batchId: 'b1',
        data: i,
        status: 'new',
      }));
      const batch = { id: 'b1', completedCount: 0, status: 'new', succeeded: 0, failed: 0 };
      const db = {
        batchItems: {
          async findById(id: string) {
            return items.find((i) => i.id === id)!;
          },
          async findByBatchId(_id: string) {
            return items;
          },
          async update(id: string, patch: object) {
            Object.assign(items.find((i) => i.id === id)!, patch);
          },
        },
        batches: {
          async findById(_id: string) {
            return batch;
          },
          async increment(_id: string, field: 'completedCount') {
            batch[field] += 1;
          },
          async update(_id: string, patch: object) {
            Object.assign(batch, patch);
          },
        },
      };
      const heavyProcessing = async (data: number) => {
        if (data === 3) throw new Error('corrupt item');
        return data * 10;
      };

      const reseolio = engineOn(openStorage(), {
        defaults: { initialDelayMs: 10, jitter: 0, maxAttempts: 2 },
      });
      const processBatchItem = reseolio.durable(
        reseolio.namespace('batch', 'item', 'process'),
        async (batchId: string, itemId: string) => {
          const item = await db.batchItems.findById(itemId);
          const result = await heavyProcessing(item.data);
          await db.batchItems.update(itemId, { status: 'completed', result });
          await db.batches.increment(batchId, 'completedCount');
          return { itemId, result };
        },
      );
      const processBatch = reseolio.durable(
        reseolio.namespace('batch', 'job', 'process'),
        async (batchId: string) => {
          await db.batches.findById(batchId);
          const batchItems = await db.batchItems.findByBatchId(batchId);
          const handles = await Promise.all(
            batchItems.map((item) =>
              processBatchItem(batchId, item.id, {
                idempotencyKey: `batch-${batchId}-item-${item.id}`,
              }),
            ),
          );
          const results = await Promise.allSettled(handles.map((h) => h.result(60000)));
          const succeeded = results.filter((r) => r.status === 'fulfilled').length;
          const failed = results.filter((r) => r.status === 'rejected').length;
          await db.batches.update(batchId, { status: 'completed', succeeded, failed });
          return { succeeded, failed, total: batchItems.length };
        },
      );
      await reseolio.start();
      expect(await (await processBatch('b1')).result(10_000)).toEqual({
        succeeded: 7,
        failed: 1,
        total: 8,
      });
      expect(batch).toMatchObject({
        status: 'completed',
        completedCount: 7,
        succeeded: 7,
        failed: 1,
      });
    });
  });

  describe('Progress: reportProgress, job:progress and details().progress', () => {
    it('an import reports how far it got; listeners hear it and details() shows it', async () => {
      const uploaded = Array.from({ length: 50 }, (_, i) => ({ email: `c${i}@example.com` }));
      const contacts = new Map<string, { email: string }>();
      const db = {
        uploads: {
          async rows(_uploadId: string) {
            return uploaded;
          },
        },
        contacts: {
          async upsert(row: { email: string }) {
            contacts.set(row.email, row);
          },
        },
      };
      const sent: [string, unknown][] = [];
      const sse = {
        send(jobId: string, progress: unknown) {
          sent.push([jobId, progress]);
        },
      };

      const reseolio = engineOn(openStorage());
      const importContacts = reseolio.durable(
        reseolio.namespace('contacts', 'import', 'run'),
        async (uploadId: string) => {
          const rows = await db.uploads.rows(uploadId);
          for (const [index, row] of rows.entries()) {
            await db.contacts.upsert(row);
            // Cheap to call often: reports are coalesced, the latest value wins.
            void reportProgress({ done: index + 1, total: rows.length });
          }
          return { imported: rows.length };
        },
      );

      // Any process on the same storage hears it:
      reseolio.on('job:progress', (job, progress) => {
        if (job.name === 'contacts:import:run') sse.send(job.id, progress);
      });

      // Or read it when asked (an HTTP status route, a dashboard):
      const handle = await importContacts('upload-42');
      const before = await handle.details();
      expect(before.progress).toBeNull(); // before the first report

      await reseolio.start();
      expect(await handle.result(10_000)).toEqual({ imported: 50 });
      const { status, progress } = await handle.details();
      expect(status).toBe('success');
      expect(progress).toEqual({ done: 50, total: 50 });
      expect(contacts.size).toBe(50);
      await waitFor(() => JSON.stringify(sent.at(-1)) === JSON.stringify([handle.jobId, progress]));
      // Coalesced: never more events than reports, and at least the last one.
      expect(sent.length).toBeLessThanOrEqual(50);
    });
  });

  describe('Key principles', () => {
    it('per-function timeouts apply to each attempt', async () => {
      const reseolio = engineOn(openStorage());
      const handler = async () => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return 'done';
      };
      const quick = reseolio.durable('principles:quick-api-call', handler, { timeoutMs: 50 });
      const pdf = reseolio.durable('principles:pdf', handler, { timeoutMs: 60000 });
      reseolio.durable('principles:workflow', handler, { timeoutMs: 300000 });
      await reseolio.start();
      const quickHandle = await quick.enqueue([], { maxAttempts: 1 });
      const error = await quickHandle.result(10_000).catch((e) => e);
      expect(error).toBeInstanceOf(JobFailedError);
      expect(error.errorName).toBe('AttemptTimeoutError');
      expect(await (await pdf()).result(10_000)).toBe('done');
    });

    it('large payloads are refused: pass ids and load data inside the handler', async () => {
      const reseolio = engineOn(openStorage());
      const processOrder = reseolio.durable(
        'principles:process-order',
        async (_order: unknown) => {},
      );
      const hugeOrder = { lines: 'x'.repeat(2 * 1024 * 1024) };
      await expect(processOrder({ ...hugeOrder })).rejects.toBeInstanceOf(PayloadTooLargeError);
      expect(await reseolio.listJobs()).toEqual([]);
      await expect(processOrder('order-1')).resolves.toBeDefined();
    });
  });
});
