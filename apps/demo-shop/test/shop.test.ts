import { describe, expect, it } from 'vitest';
import { signWebhook } from '../src/durable/order-webhook.ts';
import {
  DATABASES,
  deliveredOrder,
  settledOrder,
  startShop,
  waitFor,
  waitingDelivery,
} from './helpers.ts';

/** The shop on each database, driven over HTTP as the page drives it. */
for (const { name, dialect, fresh } of DATABASES) {
  describe(`the shop on ${name}`, () => {
    const openShop = async (options: Parameters<typeof startShop>[0] = {}) =>
      startShop({ ...(await fresh()), ...options });

    it('signup answers before the welcome email is sent, and the email is sent once (pattern 1)', async () => {
      const shop = await openShop({ faults: { latencyMs: 300 } });
      const res = await shop.request('POST', '/api/signup', {
        email: 'ada@example.com',
        name: 'Ada',
      });
      expect(res.status).toBe(201);
      // The fake mail provider takes 150–450 ms: the response did not wait for it.
      expect((await shop.database.repo.snapshot()).emails).toHaveLength(0);
      const result = await shop.app.reseolio.getHandle(res.body.welcomeJobId).result(10_000);
      expect(result).toMatchObject({ sent: true, replayed: false });
      const { emails } = await shop.database.repo.snapshot();
      expect(emails).toMatchObject([{ to: 'ada@example.com', template: 'welcome', replays: 0 }]);
    });

    it('fulfils an order: one charge, stock reserved, one label, one confirmation, a signed webhook', async () => {
      const shop = await openShop();
      const placed = await shop.request('POST', '/api/orders', { productId: 'tee', quantity: 2 });
      expect(placed.status).toBe(202);
      const order = await settledOrder(shop, placed.body.orderId);
      expect(order).toMatchObject({ status: 'fulfilled', amountCents: 5000, cancelReason: null });
      expect(order.steps.payment).toMatchObject({ status: 'success', attempt: 1 });
      expect(order.steps.inventory).toMatchObject({ status: 'success' });
      expect(order.steps.shipping.result.url).toBe(order.labelUrl);
      expect(order.steps.refund).toBeUndefined();

      const audit = await waitFor(async () => {
        const { body } = await shop.request('GET', '/api/audit');
        return body.settled ? body : undefined;
      });
      expect(audit.violations).toEqual([]);
      const data = await shop.database.repo.snapshot();
      expect(data.payments).toMatchObject([
        { orderId: order.id, amountCents: 5000, status: 'succeeded' },
      ]);
      expect(data.products.find((p) => p.id === 'tee')).toMatchObject({
        stock: 998,
        initialStock: 1000,
      });
      expect(data.shipments).toHaveLength(1);
      expect(data.emails).toMatchObject([{ template: 'order-confirmation', orderId: order.id }]);
      expect(data.webhooks).toMatchObject([
        { eventId: `${order.id}:order.fulfilled`, deliveries: 1 },
      ]);
    });

    it('awaits the invoice job and answers with its URL; asking again reuses the job (pattern 2)', async () => {
      // With latency the saga is still running when the first invoice request comes in.
      const shop = await openShop({ faults: { latencyMs: 100 } });
      const placed = await shop.request('POST', '/api/orders', { productId: 'mug' });
      const orderId = placed.body.orderId;
      expect((await shop.request('GET', `/api/orders/${orderId}/invoice`)).status).toBe(409);
      await settledOrder(shop, orderId);
      const first = await shop.request('GET', `/api/orders/${orderId}/invoice`);
      expect(first).toMatchObject({
        status: 200,
        body: { url: `/invoices/${orderId}`, amountCents: 1200 },
      });
      const invoice = await fetch(`${shop.base}${first.body.url}`);
      expect(await invoice.text()).toContain(first.body.number);
      await shop.request('GET', `/api/orders/${orderId}/invoice`);
      const invoices = await shop.app.reseolio.listJobs({ name: 'billing:invoice:generate' });
      expect(invoices).toHaveLength(1);
      // Pattern 7: the job a customer waits for goes before queued background work.
      expect(invoices[0]!.priority).toBe(10);
    });

    it('a declined card cancels the order with the reason; nothing to refund, stock untouched', async () => {
      const shop = await openShop();
      const placed = await shop.request('POST', '/api/orders', {
        productId: 'mug',
        card: '4000 0000 0000 0002',
      });
      const order = await settledOrder(shop, placed.body.orderId);
      expect(order.status).toBe('cancelled');
      expect(order.cancelReason).toBe('payment: card_declined: card ending 0002 was declined');
      // Declined at once (NonRetryableError), not retried.
      expect(order.steps.payment).toMatchObject({ status: 'dead', attempt: 1 });
      expect(order.steps.refund.result).toEqual({ refunded: false });
      expect(order.steps['release-stock'].result).toEqual({ outcome: 'nothing-reserved' });
      const data = await shop.database.repo.snapshot();
      expect(data.refunds).toEqual([]);
      expect(data.products.find((p) => p.id === 'mug')?.stock).toBe(1000);
      await waitFor(async () => (await shop.database.repo.snapshot()).emails.length === 1);
      expect((await shop.database.repo.snapshot()).emails[0]?.template).toBe('order-cancelled');
    });

    it('out of stock after the charge: the payment is refunded in full', async () => {
      const shop = await openShop();
      const placed = await shop.request('POST', '/api/orders', { productId: 'lamp', quantity: 6 });
      const order = await settledOrder(shop, placed.body.orderId);
      expect(order.status).toBe('cancelled');
      expect(order.cancelReason).toMatch(
        /^inventory: out_of_stock: out of stock: 6 × Lease lamp wanted, 5 left/,
      );
      expect(order.steps.refund.result).toMatchObject({ refunded: true, amountCents: 6 * 4900 });
      const data = await shop.database.repo.snapshot();
      expect(data.refunds).toMatchObject([{ orderId: order.id, amountCents: 6 * 4900 }]);
      expect(data.products.find((p) => p.id === 'lamp')?.stock).toBe(5);
    });

    it('shipping dies after its retries: stock is released and the payment refunded', async () => {
      const shop = await openShop({ faults: { carrierFailureRate: 1 } });
      const placed = await shop.request('POST', '/api/orders', { productId: 'lamp', quantity: 2 });
      const order = await settledOrder(shop, placed.body.orderId);
      expect(order.status).toBe('cancelled');
      expect(order.cancelReason).toMatch(/^shipping: CARRIER_UNAVAILABLE: /);
      expect(order.steps.shipping).toMatchObject({ status: 'dead', attempt: 5, maxAttempts: 5 });
      expect(order.steps['release-stock'].result).toEqual({ outcome: 'released' });
      expect(order.steps.refund.result).toMatchObject({ refunded: true, amountCents: 9800 });
      const data = await shop.database.repo.snapshot();
      expect(data.products.find((p) => p.id === 'lamp')?.stock).toBe(5);
      expect(data.reservations).toMatchObject([
        { orderId: order.id, releasedAt: expect.any(Number) },
      ]);
      expect(data.shipments).toEqual([]);
    });

    it('the gateway answers a repeated idempotency key from its ledger instead of charging again', async () => {
      const shop = await openShop();
      const request = {
        idempotencyKey: 'order-x-charge',
        orderId: 'x',
        amountCents: 700,
        card: '4242',
      };
      const first = await shop.deps.gateway.charge(request);
      const again = await shop.deps.gateway.charge({ ...request, amountCents: 999 });
      expect(again.id).toBe(first.id);
      expect(again).toMatchObject({ amountCents: 700, replays: 1 });
      expect((await shop.database.repo.snapshot()).payments).toHaveLength(1);
    });

    it('processes product images in three sizes as parallel child jobs (pattern 4)', async () => {
      const shop = await openShop({ faults: { latencyMs: 100 } });
      const res = await shop.request('POST', '/api/products/mug/images');
      expect(res.status).toBe(202);
      const result = await shop.app.reseolio.getHandle(res.body.jobId).result(20_000);
      expect(result).toMatchObject({ succeeded: 3, failed: 0 });
      // Pattern 8: the parent reported the renditions done as its progress.
      const progress = await shop.request('GET', `/api/image-jobs/${res.body.jobId}`);
      expect(progress.body).toEqual({ status: 'success', progress: { done: 3, total: 3 } });
      const unknown = await shop.request('GET', '/api/image-jobs/not-a-job');
      expect(unknown.status).toBe(404);
      const children = await shop.app.reseolio.listJobs({ name: 'catalog:images:resize' });
      expect(children.map((c) => c.parentId)).toEqual([
        res.body.jobId,
        res.body.jobId,
        res.body.jobId,
      ]);
      // Pattern 7: the renditions are limited per product, the key computed at enqueue.
      expect(children.map((c) => c.concurrencyKey)).toEqual(['mug', 'mug', 'mug']);
      const products = await shop.request('GET', '/api/products');
      expect(products.body.products.find((p: { id: string }) => p.id === 'mug').images).toEqual([
        96, 320, 960,
      ]);
      const svg = await fetch(`${shop.base}/images/mug/320.svg`);
      expect(svg.headers.get('content-type')).toContain('image/svg+xml');
      expect(await svg.text()).toContain('width="320"');
    });

    it('webhooks are retried with backoff while the receiver fails, and bad signatures are refused', async () => {
      const shop = await openShop({ faults: { webhookFailureRate: 1 } });
      const placed = await shop.request('POST', '/api/orders', { productId: 'mug' });
      const order = await settledOrder(shop, placed.body.orderId);
      const webhook = shop.app.reseolio.getHandle(order.steps.webhook.jobId);
      const failing = await waitFor(async () => {
        const details = await webhook.details();
        return details.attempt >= 2 ? details : undefined;
      });
      expect(failing.error?.message).toBe('receiver answered 503');
      shop.deps.faults.webhookFailureRate = 0;
      await webhook.result(20_000);
      const { webhooks } = await shop.database.repo.snapshot();
      expect(webhooks).toMatchObject([{ eventId: `${order.id}:order.fulfilled`, deliveries: 1 }]);

      const body = JSON.stringify({ id: 'e1', type: 'order.fulfilled', orderId: 'o1' });
      const forged = await fetch(`${shop.base}/webhooks/orders`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shop-signature': signWebhook('wrong', body),
        },
        body,
      });
      expect(forged.status).toBe(401);
    });

    it('declares the daily sales report at start; "send now" mails one report per run, and a paused schedule stays paused on restart', async () => {
      const database = await fresh();
      const shop = await startShop(database);
      const { body: schedule } = await shop.request('GET', '/api/reports/sales');
      expect(schedule).toMatchObject({
        id: 'reports:sales:daily',
        name: 'reports:sales:daily',
        cron: '0 8 * * *',
        timezone: 'Europe/Berlin',
        args: ['owner@shop.example'],
        status: 'active',
      });
      const placed = await shop.request('POST', '/api/orders', { productId: 'mug', quantity: 1 });
      await settledOrder(shop, placed.body.orderId);
      const run = await shop.request('POST', '/api/reports/sales/run');
      expect(run.status).toBe(202);
      const report = await shop.app.reseolio.getHandle(run.body.jobId).result(10_000);
      expect(report).toMatchObject({ orders: 1, revenueCents: 1200 });
      expect((await shop.app.reseolio.getHandle(run.body.jobId).details()).scheduleId).toBe(
        'reports:sales:daily',
      );
      const { emails } = await shop.database.repo.snapshot();
      expect(emails.filter((e) => e.template === 'sales-report')).toMatchObject([
        { to: 'owner@shop.example', body: '1 orders, 1 fulfilled, 12.00 € revenue.' },
      ]);
      await shop.app.reseolio.pauseSchedule('reports:sales:daily');
      await shop.close();
      const restarted = await startShop(database);
      const { body: after } = await restarted.request('GET', '/api/reports/sales');
      expect(after.status).toBe('paused');
    });

    it('a fulfilled order waits for "Confirm delivery": the click is a signal, the order is delivered by the customer (pattern 6)', async () => {
      // With latency the saga is still running when the first confirm comes in.
      const shop = await openShop({ faults: { latencyMs: 100 } });
      expect((await shop.request('POST', '/api/orders/ord_nope/confirm-delivery')).status).toBe(
        404,
      );
      const placed = await shop.request('POST', '/api/orders', { productId: 'mug' });
      const orderId = placed.body.orderId;
      expect((await shop.request('POST', `/api/orders/${orderId}/confirm-delivery`)).status).toBe(
        409,
      );

      const waiting = await waitingDelivery(shop, orderId);
      expect(waiting).toMatchObject({
        status: 'fulfilled',
        deliveredAt: null,
        deliveryConfirmedBy: null,
        deliveryJobId: waiting.delivery.jobId,
        delivery: {
          status: 'waiting',
          waitingFor: { kind: 'signal', topic: 'delivery-confirmed', until: expect.any(String) },
        },
      });
      const job = await shop.app.reseolio.getHandle(waiting.deliveryJobId).details();
      expect(job).toMatchObject({ name: 'orders:delivery:await', status: 'waiting' });

      const confirmed = await shop.request('POST', `/api/orders/${orderId}/confirm-delivery`);
      expect(confirmed).toMatchObject({
        status: 202,
        body: { jobId: waiting.deliveryJobId, duplicate: false },
      });
      const delivered = await deliveredOrder(shop, orderId);
      expect(delivered).toMatchObject({
        status: 'fulfilled',
        deliveryConfirmedBy: 'customer',
        deliveredAt: expect.any(Number),
        delivery: { status: 'success', waitingFor: null },
      });
      expect(delivered.delivery.result).toMatchObject({ confirmedBy: 'customer' });
      // Nothing waits any more: a second click is refused, and nothing is recorded twice.
      const again = await shop.request('POST', `/api/orders/${orderId}/confirm-delivery`);
      expect(again.status).toBe(409);
      expect((await shop.request('GET', `/api/orders/${orderId}`)).body.deliveredAt).toBe(
        delivered.deliveredAt,
      );

      const audit = await waitFor(async () => {
        const { body } = await shop.request('GET', '/api/audit');
        return body.settled ? body : undefined;
      });
      expect(audit.violations).toEqual([]);
      const { emails } = await shop.database.repo.snapshot();
      expect(emails.filter((e) => e.template === 'order-delivered')).toMatchObject([
        { orderId, body: expect.stringContaining('Thanks for confirming') },
      ]);
    });

    it('two clicks at once are one signal: each answers 202 (the same idempotency key) or 409 (already delivered), and the order is delivered once', async () => {
      const shop = await openShop();
      const placed = await shop.request('POST', '/api/orders', { productId: 'tee' });
      const orderId = placed.body.orderId;
      await waitingDelivery(shop, orderId);
      const answers = await Promise.all(
        [1, 2].map(() => shop.request('POST', `/api/orders/${orderId}/confirm-delivery`)),
      );
      expect(answers.map((a) => a.status)).toContain(202);
      for (const answer of answers) expect([202, 409]).toContain(answer.status);
      expect(answers.filter((a) => a.status === 202 && !a.body.duplicate)).toHaveLength(1);
      expect(await deliveredOrder(shop, orderId)).toMatchObject({
        deliveryConfirmedBy: 'customer',
      });
      const audit = await waitFor(async () => {
        const { body } = await shop.request('GET', '/api/audit');
        return body.settled ? body : undefined;
      });
      expect(audit.violations).toEqual([]);
    });

    it('a delivery nobody confirms confirms itself after the timeout (auto)', async () => {
      const shop = await openShop({ deliveryAutoConfirmMs: 1_500 });
      const placed = await shop.request('POST', '/api/orders', { productId: 'mug' });
      const orderId = placed.body.orderId;
      const delivered = await deliveredOrder(shop, orderId);
      expect(delivered).toMatchObject({
        status: 'fulfilled',
        deliveryConfirmedBy: 'auto',
        deliveredAt: expect.any(Number),
      });
      expect(delivered.delivery.result).toMatchObject({ confirmedBy: 'auto' });
      expect((await shop.request('POST', `/api/orders/${orderId}/confirm-delivery`)).status).toBe(
        409,
      );
      const { emails } = await shop.database.repo.snapshot();
      expect(emails.filter((e) => e.template === 'order-delivered')).toMatchObject([
        { orderId, body: expect.stringContaining('We marked your order as delivered') },
      ]);
    });

    it('the wait survives a restart: the delivery still waits in the new process, and a confirm there delivers', async () => {
      const database = await fresh();
      const shop = await startShop(database);
      const placed = await shop.request('POST', '/api/orders', { productId: 'mug' });
      const orderId = placed.body.orderId;
      const waiting = await waitingDelivery(shop, orderId);
      await shop.close();

      const restarted = await startShop(database);
      const after = await waitingDelivery(restarted, orderId);
      expect(after.deliveryJobId).toBe(waiting.deliveryJobId);
      const confirmed = await restarted.request('POST', `/api/orders/${orderId}/confirm-delivery`);
      expect(confirmed.status).toBe(202);
      expect(await deliveredOrder(restarted, orderId)).toMatchObject({
        deliveryConfirmedBy: 'customer',
      });
      expect(await restarted.app.reseolio.listJobs({ name: 'orders:delivery:await' })).toHaveLength(
        1,
      );
    });

    it('validates the fault switches and serves the page', async () => {
      const shop = await openShop();
      expect((await shop.request('GET', '/api/health')).body).toEqual({
        ok: true,
        database: dialect,
      });
      expect((await shop.request('PUT', '/api/faults', { declineRate: 2 })).status).toBe(400);
      expect((await shop.request('PUT', '/api/faults', { nope: 1 })).status).toBe(400);
      const ok = await shop.request('PUT', '/api/faults', { declineRate: 0.5 });
      expect(ok.body.declineRate).toBe(0.5);
      expect(shop.deps.faults.declineRate).toBe(0.5);
      const page = await fetch(`${shop.base}/`);
      expect(await page.text()).toContain('Reseolio demo shop');
      const jobs = await shop.request('GET', '/jobs?limit=1');
      expect(jobs.status).toBe(200);
    });
  });
}
