import { describe, expect, inject, it } from 'vitest';
import { newOrder } from './fixtures.ts';
import { settledOrder, startShop, tempPostgresUrl, tempSqliteFile } from './helpers.ts';

describe('an order and its saga job', () => {
  it('on PostgreSQL the order and its saga job commit in one transaction: a failure after the enqueue rolls back both', async () => {
    const shop = await startShop({ databaseUrl: await tempPostgresUrl(inject('databaseUrl')) });
    let enqueuedJobId = '';
    await expect(
      shop.database.repo.createOrder(newOrder('ord_rolled_back'), async (order, transaction) => {
        expect(transaction).toBeDefined();
        const handle = await shop.shop.processOrder(order.id, {
          idempotencyKey: `checkout-${order.id}`,
          transaction,
        });
        enqueuedJobId = handle.jobId;
        throw new Error('the request failed after the enqueue');
      }),
    ).rejects.toThrow('the request failed after the enqueue');
    expect(enqueuedJobId).not.toBe('');
    expect(await shop.database.repo.getOrder('ord_rolled_back')).toBeUndefined();
    await expect(shop.app.reseolio.getHandle(enqueuedJobId).status()).rejects.toMatchObject({
      code: 'RESEOLIO_JOB_NOT_FOUND',
    });
  });
  it('on SQLite an order stored before a crash kept it from being enqueued is picked up on the next start', async () => {
    const sqliteFile = tempSqliteFile();
    const first = await startShop({ sqliteFile });
    // The SQLite path inserts the order, then enqueues: simulate the process dying in between.
    await expect(
      first.database.repo.createOrder(newOrder('ord_orphan'), async () => {
        throw new Error('killed before the enqueue');
      }),
    ).rejects.toThrow('killed before the enqueue');
    await first.close();

    const second = await startShop({ sqliteFile });
    const order = await settledOrder(second, 'ord_orphan');
    expect(order.status).toBe('fulfilled');
    expect(order.sagaJobId).toBe(order.saga.jobId);
  });
});
