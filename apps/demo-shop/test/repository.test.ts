import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/open.ts';
import type { NewOrder, ShopRepository } from '../src/db/repository.ts';
import { newOrder } from './fixtures.ts';
import { DATABASES, onCleanup } from './helpers.ts';

// The one repository's promises, checked on each database directly (no engine, no HTTP): the
// places where SQLite and PostgreSQL differ (placeholders, BIGINT times, RETURNING, upserts,
// transactions) all sit under these calls.

for (const { name, dialect, fresh } of DATABASES) {
  describe(`the repository on ${name}`, () => {
    async function openRepo(): Promise<ShopRepository> {
      const { databaseUrl, sqliteFile = '' } = await fresh(); // one of the two is set
      const database = await openDatabase({ databaseUrl, sqliteFile });
      onCleanup(() => database.close());
      await database.repo.seedProducts([
        { id: 'mug', name: 'Mug', priceCents: 1200, stock: 10, color: '#000' },
        { id: 'lamp', name: 'Lamp', priceCents: 4900, stock: 3, color: '#111' },
      ]);
      return database.repo;
    }

    /** Order o1 (or what `order` says), stored without a saga: its enqueue only names a job. */
    async function placed(repo: ShopRepository, order: Partial<NewOrder> = {}) {
      return repo.createOrder(newOrder('o1', order), async () => 'job-1');
    }

    it('reads back what it stored: camelCase fields, times as numbers, missing values as null', async () => {
      const repo = await openRepo();
      expect(repo.dialect).toBe(dialect);
      const before = Date.now();
      const order = await placed(repo);
      const stored = await repo.getOrder('o1');
      expect(stored).toEqual({ ...order, sagaJobId: 'job-1' });
      expect(stored).toMatchObject({
        status: 'placed',
        cancelReason: null,
        paymentId: null,
        labelUrl: null,
        createdAt: expect.any(Number),
      });
      expect(stored!.createdAt).toBeGreaterThanOrEqual(before);
      expect(stored!.updatedAt).toBe(stored!.createdAt);
      expect(await repo.getOrder('nope')).toBeUndefined();
      expect(await repo.listProducts()).toMatchObject([
        { id: 'mug', priceCents: 1200, stock: 10, initialStock: 10 },
        { id: 'lamp', priceCents: 4900, stock: 3, initialStock: 3 },
      ]);
    });

    it('seeding again keeps the stock that orders took', async () => {
      const repo = await openRepo();
      await placed(repo);
      expect(await repo.reserveStock('o1', 'lamp', 2)).toBe('reserved');
      await repo.seedProducts([
        { id: 'lamp', name: 'Lamp', priceCents: 4900, stock: 3, color: '' },
      ]);
      expect(await repo.getProduct('lamp')).toMatchObject({ stock: 1, initialStock: 3 });
    });

    it('passes the enqueue a transaction to join on PostgreSQL only; a failing enqueue keeps the order on SQLite and rolls it back on PostgreSQL', async () => {
      const repo = await openRepo();
      let lent: unknown;
      await expect(
        repo.createOrder(newOrder('o1'), async (_order, transaction) => {
          lent = transaction;
          throw new Error('enqueue failed');
        }),
      ).rejects.toThrow('enqueue failed');
      if (dialect === 'postgres') {
        expect(lent).toBeDefined();
        expect(await repo.getOrder('o1')).toBeUndefined();
      } else {
        expect(lent).toBeUndefined();
        expect(await repo.getOrder('o1')).toMatchObject({ status: 'placed', sagaJobId: null });
      }
    });

    it('updates orders: a patch sets only its fields; placed → processing happens once', async () => {
      const repo = await openRepo();
      const order = await placed(repo);
      await placed(repo, { id: 'o2' });
      await repo.updateOrder('o1', { paymentId: 'pay_1', labelUrl: 'https://label' });
      expect(await repo.getOrder('o1')).toMatchObject({
        paymentId: 'pay_1',
        labelUrl: 'https://label',
        status: 'placed',
        sagaJobId: 'job-1',
        cancelReason: null,
      });
      expect((await repo.getOrder('o1'))!.updatedAt).toBeGreaterThanOrEqual(order.updatedAt);
      expect(await repo.startProcessing('o1')).toBe(true);
      expect(await repo.startProcessing('o1')).toBe(false);
      expect((await repo.listOrdersWithStatus('placed')).map((o) => o.id)).toEqual(['o2']);
      expect(await repo.listOrders(1)).toHaveLength(1);

      await repo.recordStep({ orderId: 'o1', step: 'payment', jobId: 'j1' });
      await repo.recordStep({ orderId: 'o1', step: 'payment', jobId: 'j2' });
      await repo.recordStep({ orderId: 'o2', step: 'payment', jobId: 'j3' });
      expect(await repo.listSteps(['o1'])).toEqual([
        { orderId: 'o1', step: 'payment', jobId: 'j1' },
      ]);
      expect(await repo.listSteps([])).toEqual([]);
    });

    it('reserves stock once per order, refuses what is not there, and releases once', async () => {
      const repo = await openRepo();
      // Concurrent attempts for one order: exactly one takes the stock.
      const outcomes = await Promise.all([1, 2, 3].map(() => repo.reserveStock('o1', 'lamp', 2)));
      expect(outcomes.sort()).toEqual(['already-reserved', 'already-reserved', 'reserved']);
      expect(await repo.reserveStock('o2', 'lamp', 2)).toBe('out-of-stock');
      // Out of stock rolls the reservation back too: the order may try again later.
      expect(await repo.releaseStock('o2')).toBe('nothing-reserved');
      expect(await repo.getProduct('lamp')).toMatchObject({ stock: 1 });

      expect(await repo.releaseStock('o1')).toBe('released');
      expect(await repo.releaseStock('o1')).toBe('already-released');
      expect(await repo.getProduct('lamp')).toMatchObject({ stock: 3 });
      const { reservations } = await repo.snapshot();
      expect(reservations).toEqual([
        {
          orderId: 'o1',
          productId: 'lamp',
          quantity: 2,
          reservedAt: expect.any(Number),
          releasedAt: expect.any(Number),
        },
      ]);
    });

    it('stores each idempotency key once and counts the replays', async () => {
      const repo = await openRepo();
      const payment = {
        id: 'pay_1',
        idempotencyKey: 'k-pay',
        orderId: 'o1',
        amountCents: 100,
        status: 'succeeded' as const,
        createdAt: 1,
      };
      expect(await repo.recordPayment(payment)).toEqual({ ...payment, replays: 0 });
      expect(await repo.recordPayment({ ...payment, id: 'pay_2', amountCents: 999 })).toEqual({
        ...payment,
        replays: 1,
      });
      expect(await repo.findPayment('k-pay')).toMatchObject({ id: 'pay_1', replays: 1 });

      const refund = { id: 'ref_1', idempotencyKey: 'k-ref', paymentId: 'pay_1', orderId: 'o1' };
      await repo.recordRefund({ ...refund, amountCents: 100, createdAt: 2 });
      expect(
        await repo.recordRefund({ ...refund, id: 'ref_2', amountCents: 100, createdAt: 3 }),
      ).toMatchObject({ id: 'ref_1', replays: 1, createdAt: 2 });

      const email = {
        id: 'e1',
        idempotencyKey: 'k-mail',
        to: 'a@example.com',
        template: 'welcome',
        subject: 's',
        body: 'b',
        orderId: null,
        userId: 'u1',
        createdAt: 4,
      };
      expect(await repo.recordEmail(email)).toMatchObject({ created: true, email: { replays: 0 } });
      expect(await repo.recordEmail({ ...email, id: 'e2' })).toMatchObject({
        created: false,
        email: { id: 'e1', replays: 1 },
      });
      expect(await repo.listEmails(10)).toHaveLength(1);

      const receipt = { eventId: 'ev1', orderId: 'o1', type: 'order.fulfilled', payload: '{}' };
      await repo.recordWebhook({ ...receipt, receivedAt: 5 });
      expect(await repo.recordWebhook({ ...receipt, receivedAt: 6 })).toMatchObject({
        deliveries: 2,
        receivedAt: 5,
      });

      const shipment = {
        id: 'sh1',
        orderId: 'o1',
        carrier: 'c',
        trackingNumber: 't1',
        labelUrl: 'u1',
        createdAt: 7,
      };
      expect(await repo.recordShipment(shipment)).toEqual(shipment);
      expect(await repo.recordShipment({ ...shipment, id: 'sh2', trackingNumber: 't2' })).toEqual(
        shipment,
      );

      const ada = await repo.upsertUser({ id: 'u1', email: 'ada@example.com', name: 'Ada' });
      expect(ada).toMatchObject({
        created: true,
        user: { id: 'u1', createdAt: expect.any(Number) },
      });
      expect(await repo.upsertUser({ id: 'u2', email: 'ada@example.com', name: 'Ada' })).toEqual({
        created: false,
        user: ada.user,
      });
      expect(await repo.getUser('u1')).toEqual(ada.user);
    });

    it('upgrades a database made before the delivery columns: an old order reads back with none, and a second start changes nothing', async () => {
      const { databaseUrl, sqliteFile = '' } = await fresh();
      // The orders table as the first version of the demo created it, with one order in it.
      const oldTable = `CREATE TABLE orders (
        id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity INTEGER NOT NULL,
        amount_cents INTEGER NOT NULL, email TEXT NOT NULL, card TEXT NOT NULL, address TEXT NOT NULL,
        status TEXT NOT NULL, cancel_reason TEXT, payment_id TEXT, label_url TEXT, saga_job_id TEXT,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`;
      const oldOrder = `INSERT INTO orders VALUES ('old', 'mug', 1, 1200, 'a@b.c', '4242', 'x',
        'fulfilled', NULL, NULL, 'label', 'job-0', 1, 2)`;
      if (databaseUrl) {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(oldTable);
        await client.query(oldOrder);
        await client.end();
      } else {
        const sqlite = new Database(sqliteFile);
        sqlite.exec(oldTable);
        sqlite.exec(oldOrder);
        sqlite.close();
      }
      const first = await openDatabase({ databaseUrl, sqliteFile });
      try {
        expect(await first.repo.getOrder('old')).toMatchObject({
          status: 'fulfilled',
          sagaJobId: 'job-0',
          deliveryJobId: null,
          deliveredAt: null,
          deliveryConfirmedBy: null,
        });
        await first.repo.updateOrder('old', { deliveryJobId: 'job-1' });
        await first.repo.recordDelivery('old', 'auto', 10);
      } finally {
        await first.close();
      }
      const second = await openDatabase({ databaseUrl, sqliteFile });
      try {
        // The first start's writes are kept, and recordDelivery keeps the first delivery.
        expect(await second.repo.recordDelivery('old', 'customer', 20)).toMatchObject({
          sagaJobId: 'job-0',
          deliveryJobId: 'job-1',
          deliveredAt: 10,
          deliveryConfirmedBy: 'auto',
        });
      } finally {
        await second.close();
      }
    });

    it('keeps the newest image of a size and the first invoice of an order', async () => {
      const repo = await openRepo();
      await repo.saveImage({ productId: 'mug', size: 96, svg: '<svg>1</svg>', createdAt: 1 });
      await repo.saveImage({ productId: 'mug', size: 96, svg: '<svg>2</svg>', createdAt: 2 });
      await repo.saveImage({ productId: 'mug', size: 320, svg: '<svg>3</svg>', createdAt: 3 });
      expect(await repo.getImage('mug', 96)).toEqual({
        productId: 'mug',
        size: 96,
        svg: '<svg>2</svg>',
        createdAt: 2,
      });
      expect(await repo.getImage('mug', 960)).toBeUndefined();
      expect((await repo.listImageSizes()).sort((a, b) => a.size - b.size)).toEqual([
        { productId: 'mug', size: 96 },
        { productId: 'mug', size: 320 },
      ]);

      await repo.saveInvoice({ orderId: 'o1', number: 'INV-1', html: '<p>1</p>', createdAt: 1 });
      await repo.saveInvoice({ orderId: 'o1', number: 'INV-2', html: '<p>2</p>', createdAt: 2 });
      expect(await repo.getInvoice('o1')).toEqual({
        orderId: 'o1',
        number: 'INV-1',
        html: '<p>1</p>',
        createdAt: 1,
      });
    });
  });
}
