import { createSqliteStorage } from '@reseolio/storage-sqlite';
import Database from 'better-sqlite3';
import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type {
  Order,
  OrderStatus,
  Payment,
  ShopDatabase,
  ShopRepository,
  StockReservation,
} from './repository.ts';

// The SQLite half of the dialect split: drizzle tables, their DDL, and the repository.
// better-sqlite3 is synchronous, so every multi-statement change is a synchronous
// transaction: nothing else (Reseolio's own statements included) can interleave with it.

const products = sqliteTable('products', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  priceCents: integer('price_cents').notNull(),
  stock: integer('stock').notNull(),
  initialStock: integer('initial_stock').notNull(),
  color: text('color').notNull(),
});

const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  createdAt: integer('created_at').notNull(),
});

const orders = sqliteTable('orders', {
  id: text('id').primaryKey(),
  productId: text('product_id').notNull(),
  quantity: integer('quantity').notNull(),
  amountCents: integer('amount_cents').notNull(),
  email: text('email').notNull(),
  card: text('card').notNull(),
  address: text('address').notNull(),
  status: text('status').$type<OrderStatus>().notNull(),
  cancelReason: text('cancel_reason'),
  paymentId: text('payment_id'),
  labelUrl: text('label_url'),
  sagaJobId: text('saga_job_id'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

const orderSteps = sqliteTable(
  'order_steps',
  {
    orderId: text('order_id').notNull(),
    step: text('step').notNull(),
    jobId: text('job_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.step] })],
);

const stockReservations = sqliteTable('stock_reservations', {
  orderId: text('order_id').primaryKey(),
  productId: text('product_id').notNull(),
  quantity: integer('quantity').notNull(),
  reservedAt: integer('reserved_at').notNull(),
  releasedAt: integer('released_at'),
});

const payments = sqliteTable('payments', {
  id: text('id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  orderId: text('order_id').notNull(),
  amountCents: integer('amount_cents').notNull(),
  status: text('status').$type<Payment['status']>().notNull(),
  replays: integer('replays').notNull().default(0),
  createdAt: integer('created_at').notNull(),
});

const refunds = sqliteTable('refunds', {
  id: text('id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  paymentId: text('payment_id').notNull(),
  orderId: text('order_id').notNull(),
  amountCents: integer('amount_cents').notNull(),
  replays: integer('replays').notNull().default(0),
  createdAt: integer('created_at').notNull(),
});

const shipments = sqliteTable('shipments', {
  id: text('id').primaryKey(),
  orderId: text('order_id').notNull().unique(),
  carrier: text('carrier').notNull(),
  trackingNumber: text('tracking_number').notNull(),
  labelUrl: text('label_url').notNull(),
  createdAt: integer('created_at').notNull(),
});

const emails = sqliteTable('emails', {
  id: text('id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  to: text('to').notNull(),
  template: text('template').notNull(),
  subject: text('subject').notNull(),
  body: text('body').notNull(),
  orderId: text('order_id'),
  userId: text('user_id'),
  replays: integer('replays').notNull().default(0),
  createdAt: integer('created_at').notNull(),
});

const webhooks = sqliteTable('webhooks', {
  eventId: text('event_id').primaryKey(),
  orderId: text('order_id').notNull(),
  type: text('type').notNull(),
  payload: text('payload').notNull(),
  deliveries: integer('deliveries').notNull().default(1),
  receivedAt: integer('received_at').notNull(),
});

const productImages = sqliteTable(
  'product_images',
  {
    productId: text('product_id').notNull(),
    size: integer('size').notNull(),
    svg: text('svg').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.size] })],
);

const invoices = sqliteTable('invoices', {
  orderId: text('order_id').primaryKey(),
  number: text('number').notNull(),
  html: text('html').notNull(),
  createdAt: integer('created_at').notNull(),
});

/**
 * Idempotent DDL matching the tables above, run on every start. The demo's schema has a
 * single version, so `CREATE TABLE IF NOT EXISTS` is all the migration it needs (see README).
 */
const DDL = `
CREATE TABLE IF NOT EXISTS products (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL,
  stock INTEGER NOT NULL CHECK (stock >= 0), initial_stock INTEGER NOT NULL, color TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity INTEGER NOT NULL,
  amount_cents INTEGER NOT NULL, email TEXT NOT NULL, card TEXT NOT NULL, address TEXT NOT NULL,
  status TEXT NOT NULL, cancel_reason TEXT, payment_id TEXT, label_url TEXT, saga_job_id TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE TABLE IF NOT EXISTS order_steps (
  order_id TEXT NOT NULL, step TEXT NOT NULL, job_id TEXT NOT NULL, PRIMARY KEY (order_id, step));
CREATE TABLE IF NOT EXISTS stock_reservations (
  order_id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity INTEGER NOT NULL,
  reserved_at INTEGER NOT NULL, released_at INTEGER);
CREATE TABLE IF NOT EXISTS payments (
  id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL,
  amount_cents INTEGER NOT NULL, status TEXT NOT NULL, replays INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (
  id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, payment_id TEXT NOT NULL,
  order_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, replays INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS shipments (
  id TEXT PRIMARY KEY, order_id TEXT NOT NULL UNIQUE, carrier TEXT NOT NULL,
  tracking_number TEXT NOT NULL, label_url TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS emails (
  id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, "to" TEXT NOT NULL,
  template TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, order_id TEXT, user_id TEXT,
  replays INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (
  event_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 1, received_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS product_images (
  product_id TEXT NOT NULL, size INTEGER NOT NULL, svg TEXT NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY (product_id, size));
CREATE TABLE IF NOT EXISTS invoices (
  order_id TEXT PRIMARY KEY, number TEXT NOT NULL, html TEXT NOT NULL, created_at INTEGER NOT NULL);
`;

/** Opens (creating if needed) the SQLite file for the shop and for Reseolio's jobs. */
export async function openSqlite(filename: string): Promise<ShopDatabase> {
  const sqlite = new Database(filename);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.exec(DDL);
  const db = drizzle({ client: sqlite });
  // One connection for both: the storage borrows it, so it never closes it; we do.
  const storage = createSqliteStorage({ database: sqlite });
  return {
    repo: new SqliteShopRepository(db),
    storage,
    description: `SQLite file ${filename}`,
    close: async () => {
      await storage.close();
      sqlite.close();
    },
  };
}

type Db = ReturnType<typeof drizzle>;

class SqliteShopRepository implements ShopRepository {
  readonly dialect = 'sqlite' as const;
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async seedProducts(list: Parameters<ShopRepository['seedProducts']>[0]) {
    // Existing rows win: a restart must not reset stock that orders have taken.
    for (const p of list) {
      this.#db
        .insert(products)
        .values({ ...p, initialStock: p.stock })
        .onConflictDoNothing()
        .run();
    }
  }

  async listProducts() {
    return this.#db.select().from(products).orderBy(products.priceCents).all();
  }

  async getProduct(id: string) {
    return this.#db.select().from(products).where(eq(products.id, id)).get();
  }

  async upsertUser(user: Parameters<ShopRepository['upsertUser']>[0]) {
    const inserted = this.#db
      .insert(users)
      .values({ ...user, createdAt: Date.now() })
      .onConflictDoNothing()
      .returning()
      .get();
    if (inserted) return { user: inserted, created: true };
    const existing = this.#db.select().from(users).where(eq(users.email, user.email)).get();
    return { user: existing!, created: false };
  }

  async getUser(id: string) {
    return this.#db.select().from(users).where(eq(users.id, id)).get();
  }

  async createOrder(
    order: Parameters<ShopRepository['createOrder']>[0],
    enqueue: Parameters<ShopRepository['createOrder']>[1],
  ) {
    const now = Date.now();
    const row = this.#db
      .insert(orders)
      .values({ ...order, status: 'placed', createdAt: now, updatedAt: now })
      .returning()
      .get();
    // Not atomic with the insert (see the interface): a crash right here leaves a `placed`
    // order without a saga, which recoverPlacedOrders() enqueues on the next start.
    const sagaJobId = await enqueue(row, undefined);
    this.#db.update(orders).set({ sagaJobId }).where(eq(orders.id, row.id)).run();
    return { ...row, sagaJobId };
  }

  async getOrder(id: string) {
    return this.#db.select().from(orders).where(eq(orders.id, id)).get();
  }

  async listOrders(limit: number) {
    return this.#db.select().from(orders).orderBy(desc(orders.createdAt)).limit(limit).all();
  }

  async listOrdersWithStatus(status: OrderStatus) {
    return this.#db.select().from(orders).where(eq(orders.status, status)).all();
  }

  async updateOrder(id: string, patch: Parameters<ShopRepository['updateOrder']>[1]) {
    this.#db
      .update(orders)
      .set({ ...patch, updatedAt: Date.now() })
      .where(eq(orders.id, id))
      .run();
  }

  async startProcessing(id: string) {
    const result = this.#db
      .update(orders)
      .set({ status: 'processing', updatedAt: Date.now() })
      .where(and(eq(orders.id, id), eq(orders.status, 'placed')))
      .run();
    return result.changes > 0;
  }

  async recordStep(step: Parameters<ShopRepository['recordStep']>[0]) {
    this.#db.insert(orderSteps).values(step).onConflictDoNothing().run();
  }

  async listSteps(orderIds: string[]) {
    if (orderIds.length === 0) return [];
    return this.#db.select().from(orderSteps).where(inArray(orderSteps.orderId, orderIds)).all();
  }

  async reserveStock(orderId: string, productId: string, quantity: number) {
    return this.#db.transaction(
      (tx) => {
        const existing = tx
          .select()
          .from(stockReservations)
          .where(eq(stockReservations.orderId, orderId))
          .get();
        if (existing) return 'already-reserved' as const;
        const taken = tx
          .update(products)
          .set({ stock: sql`${products.stock} - ${quantity}` })
          .where(and(eq(products.id, productId), sql`${products.stock} >= ${quantity}`))
          .run();
        if (taken.changes === 0) return 'out-of-stock' as const;
        tx.insert(stockReservations)
          .values({ orderId, productId, quantity, reservedAt: Date.now() })
          .run();
        return 'reserved' as const;
      },
      { behavior: 'immediate' },
    );
  }

  async releaseStock(orderId: string) {
    return this.#db.transaction(
      (tx) => {
        const released = tx
          .update(stockReservations)
          .set({ releasedAt: Date.now() })
          .where(and(eq(stockReservations.orderId, orderId), isNull(stockReservations.releasedAt)))
          .returning()
          .get();
        if (!released) {
          const existing = tx
            .select({ orderId: stockReservations.orderId })
            .from(stockReservations)
            .where(eq(stockReservations.orderId, orderId))
            .get();
          return existing ? ('already-released' as const) : ('nothing-reserved' as const);
        }
        tx.update(products)
          .set({ stock: sql`${products.stock} + ${released.quantity}` })
          .where(eq(products.id, released.productId))
          .run();
        return 'released' as const;
      },
      { behavior: 'immediate' },
    );
  }

  async recordPayment(payment: Parameters<ShopRepository['recordPayment']>[0]) {
    return this.#db
      .insert(payments)
      .values(payment)
      .onConflictDoUpdate({
        target: payments.idempotencyKey,
        set: { replays: sql`${payments.replays} + 1` },
      })
      .returning()
      .get();
  }

  async findPayment(idempotencyKey: string) {
    return this.#db
      .select()
      .from(payments)
      .where(eq(payments.idempotencyKey, idempotencyKey))
      .get();
  }

  async recordRefund(refund: Parameters<ShopRepository['recordRefund']>[0]) {
    return this.#db
      .insert(refunds)
      .values(refund)
      .onConflictDoUpdate({
        target: refunds.idempotencyKey,
        set: { replays: sql`${refunds.replays} + 1` },
      })
      .returning()
      .get();
  }

  async recordShipment(shipment: Parameters<ShopRepository['recordShipment']>[0]) {
    this.#db.insert(shipments).values(shipment).onConflictDoNothing().run();
    return this.#db.select().from(shipments).where(eq(shipments.orderId, shipment.orderId)).get()!;
  }

  async recordEmail(email: Parameters<ShopRepository['recordEmail']>[0]) {
    const row = this.#db
      .insert(emails)
      .values(email)
      .onConflictDoUpdate({
        target: emails.idempotencyKey,
        set: { replays: sql`${emails.replays} + 1` },
      })
      .returning()
      .get();
    return { email: row, created: row.replays === 0 };
  }

  async listEmails(limit: number) {
    return this.#db.select().from(emails).orderBy(desc(emails.createdAt)).limit(limit).all();
  }

  async recordWebhook(receipt: Parameters<ShopRepository['recordWebhook']>[0]) {
    return this.#db
      .insert(webhooks)
      .values(receipt)
      .onConflictDoUpdate({
        target: webhooks.eventId,
        set: { deliveries: sql`${webhooks.deliveries} + 1` },
      })
      .returning()
      .get();
  }

  async saveImage(image: Parameters<ShopRepository['saveImage']>[0]) {
    this.#db
      .insert(productImages)
      .values(image)
      .onConflictDoUpdate({
        target: [productImages.productId, productImages.size],
        set: { svg: image.svg, createdAt: image.createdAt },
      })
      .run();
  }

  async getImage(productId: string, size: number) {
    return this.#db
      .select()
      .from(productImages)
      .where(and(eq(productImages.productId, productId), eq(productImages.size, size)))
      .get();
  }

  async listImageSizes() {
    return this.#db
      .select({ productId: productImages.productId, size: productImages.size })
      .from(productImages)
      .all();
  }

  async saveInvoice(invoice: Parameters<ShopRepository['saveInvoice']>[0]) {
    this.#db.insert(invoices).values(invoice).onConflictDoNothing().run();
  }

  async getInvoice(orderId: string) {
    return this.#db.select().from(invoices).where(eq(invoices.orderId, orderId)).get();
  }

  async snapshot() {
    const db = this.#db;
    // One read transaction, so the audit sees a consistent picture.
    return db.transaction((tx) => ({
      products: tx.select().from(products).all(),
      orders: tx.select().from(orders).all() as Order[],
      reservations: tx.select().from(stockReservations).all() as StockReservation[],
      payments: tx.select().from(payments).all(),
      refunds: tx.select().from(refunds).all(),
      shipments: tx.select().from(shipments).all(),
      emails: tx.select().from(emails).all(),
      webhooks: tx.select().from(webhooks).all(),
    }));
  }
}
