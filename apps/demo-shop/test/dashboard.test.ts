import { describe, expect, it } from 'vitest';
import {
  DATABASES,
  declinedCheckout,
  settledOrder,
  settledSagaPage,
  startShop,
} from './helpers.ts';

/** The dashboard the shop mounts at /dashboard, on each database. */
for (const { name, fresh } of DATABASES) {
  describe(`the dashboard on ${name}`, () => {
    it("serves the page, and its API lists the checkout saga's jobs after an order", async () => {
      const shop = await startShop(await fresh());
      const page = await fetch(`${shop.base}/dashboard/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      // The shop page links to it.
      expect(await (await fetch(`${shop.base}/`)).text()).toContain('href="/dashboard/"');

      const placed = await shop.request('POST', '/api/orders', { productId: 'tee', quantity: 1 });
      expect(placed.status).toBe(202);
      const order = await settledOrder(shop, placed.body.orderId);
      expect(order.status).toBe('fulfilled');

      const sagas = await shop.request('GET', '/dashboard/api/jobs?name=checkout:order:process');
      expect(sagas.status).toBe(200);
      const ids = sagas.body.jobs.map((job: { id: string }) => job.id);
      expect(ids).toContain(order.sagaJobId);

      const children = await shop.request('GET', `/dashboard/api/jobs?parentId=${order.sagaJobId}`);
      expect(children.status).toBe(200);
      const names = children.body.jobs.map((job: { name: string }) => job.name);
      for (const step of [
        'checkout:payment:charge',
        'checkout:inventory:reserve',
        'checkout:shipping:label',
        'checkout:email:confirmation',
        'webhooks:order:deliver',
      ]) {
        expect(names).toContain(step);
      }
    });

    it('the job page of a cancelled checkout shows the orchestrator, its five children with the compensation, and their attempts', async () => {
      const shop = await startShop(await fresh());
      const order = await declinedCheckout(shop);
      expect(order.status).toBe('cancelled');
      const page = await settledSagaPage(shop, order.sagaJobId);
      expect(page.job).toMatchObject({ id: order.sagaJobId, name: 'checkout:order:process' });
      expect(page.job.attempts).toMatchObject([{ attempt: 1, outcome: 'success' }]);
      expect(page.parent).toBeNull();
      const children = page.children.map((child: { name: string; status: string }) => [
        child.name,
        child.status,
      ]);
      expect(children).toEqual([
        ['checkout:payment:charge', 'dead'],
        ['checkout:inventory:release', 'success'],
        ['checkout:payment:refund', 'success'],
        ['checkout:email:cancellation', 'success'],
        ['webhooks:order:deliver', 'success'],
      ]);
      // A child's own page has its attempts, each with its outcome and error.
      const charge = page.children[0];
      const { body: chargePage } = await shop.request('GET', `/dashboard/api/jobs/${charge.id}`);
      expect(chargePage.parent.id).toBe(order.sagaJobId);
      expect(chargePage.job.attempts.length).toBeGreaterThanOrEqual(1);
      expect(chargePage.job.attempts.at(-1)).toMatchObject({
        outcome: 'failed',
        error: { message: 'card ending 0002 was declined' },
      });
    });

    it('is served to localhost only, as the job routes are', async () => {
      const shop = await startShop(await fresh());
      const remote = await shop.app.inject({ url: '/dashboard/', remoteAddress: '203.0.113.7' });
      expect(remote.statusCode).toBe(403);
      const local = await shop.app.inject({ url: '/dashboard/', remoteAddress: '127.0.0.1' });
      expect(local.statusCode).toBe(200);
    });
  });
}
