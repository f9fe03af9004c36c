import { describe, expect, inject, it } from 'vitest';
import { settledOrder, startShop, tempPostgresUrl, waitFor } from './helpers.ts';

/** The same shop on PostgreSQL: the other half of the dialect split, and transactional enqueue. */
describe('the shop on PostgreSQL', () => {
  it('fulfils one order and cancels another with its compensations', async () => {
    const shop = await startShop({ databaseUrl: await tempPostgresUrl(inject('databaseUrl')) });
    expect((await shop.request('GET', '/api/health')).body.database).toBe('postgres');
    const good = await shop.request('POST', '/api/orders', { productId: 'lamp', quantity: 2 });
    const tooMany = await shop.request('POST', '/api/orders', { productId: 'lamp', quantity: 6 });
    const fulfilled = await settledOrder(shop, good.body.orderId);
    const cancelled = await settledOrder(shop, tooMany.body.orderId);
    expect(fulfilled.status).toBe('fulfilled');
    expect(cancelled).toMatchObject({ status: 'cancelled' });
    expect(cancelled.cancelReason).toMatch(/^inventory: out_of_stock/);
    expect(cancelled.steps.refund.result).toMatchObject({ refunded: true, amountCents: 6 * 4900 });

    const audit = await waitFor(async () => {
      const { body } = await shop.request('GET', '/api/audit');
      return body.settled ? body : undefined;
    });
    expect(audit).toMatchObject({
      orders: { total: 2, fulfilled: 1, cancelled: 1 },
      refunds: { count: 1 },
      violations: [],
    });
    const data = await shop.database.repo.snapshot();
    expect(data.products.find((p) => p.id === 'lamp')?.stock).toBe(3);
  });

  it('stores an order and its saga job in one transaction: a failure after the enqueue rolls back both', async () => {
    const shop = await startShop({ databaseUrl: await tempPostgresUrl(inject('databaseUrl')) });
    let enqueuedJobId = '';
    await expect(
      shop.database.repo.createOrder(
        {
          id: 'ord_rolled_back',
          productId: 'mug',
          quantity: 1,
          amountCents: 1200,
          email: 'a@example.com',
          card: '4242424242424242',
          address: 'here',
        },
        async (order, transaction) => {
          expect(transaction).toBeDefined();
          const handle = await shop.shop.processOrder(order.id, {
            idempotencyKey: `checkout-${order.id}`,
            transaction,
          });
          enqueuedJobId = handle.jobId;
          throw new Error('the request failed after the enqueue');
        },
      ),
    ).rejects.toThrow('the request failed after the enqueue');
    expect(enqueuedJobId).not.toBe('');
    expect(await shop.database.repo.getOrder('ord_rolled_back')).toBeUndefined();
    await expect(shop.app.reseolio.getHandle(enqueuedJobId).status()).rejects.toMatchObject({
      code: 'RESEOLIO_JOB_NOT_FOUND',
    });
  });
});
