import { createPostgresStorage } from '@reseolio/storage-postgres';
import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { bigint, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type {
  OrderStatus,
  Payment,
  ReleaseOutcome,
  ReserveOutcome,
  ShopDatabase,
  ShopRepository,
} from './repository.ts';

// The PostgreSQL half of the dialect split: the same tables as sqlite.ts (times are BIGINT
// epoch ms read back as numbers), their DDL, and the repository with async transactions.

const ms = (name: string) => bigint(name, { mode: 'number' });

const products = pgTable('products', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  priceCents: integer('price_cents').notNull(),
  stock: integer('stock').notNull(),
  initialStock: integer('initial_stock').notNull(),
  color: text('color').notNull(),
});

const users = pgTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  createdAt: ms('created_at').notNull(),
});

const orders = pgTable('orders', {
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
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

const orderSteps = pgTable(
  'order_steps',
  {
    orderId: text('order_id').notNull(),
    step: text('step').notNull(),
    jobId: text('job_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.step] })],
);

const stockReservations = pgTable('stock_reservations', {
  orderId: text('order_id').primaryKey(),
  productId: text('product_id').notNull(),
  quantity: integer('quantity').notNull(),
  reservedAt: ms('reserved_at').notNull(),
  releasedAt: ms('released_at'),
});

const payments = pgTable('payments', {
  id: text('id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  orderId: text('order_id').notNull(),
  amountCents: integer('amount_cents').notNull(),
  status: text('status').$type<Payment['status']>().notNull(),
  replays: integer('replays').notNull().default(0),
  createdAt: ms('created_at').notNull(),
});

const refunds = pgTable('refunds', {
  id: text('id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  paymentId: text('payment_id').notNull(),
  orderId: text('order_id').notNull(),
  amountCents: integer('amount_cents').notNull(),
  replays: integer('replays').notNull().default(0),
  createdAt: ms('created_at').notNull(),
});

const shipments = pgTable('shipments', {
  id: text('id').primaryKey(),
  orderId: text('order_id').notNull().unique(),
  carrier: text('carrier').notNull(),
  trackingNumber: text('tracking_number').notNull(),
  labelUrl: text('label_url').notNull(),
  createdAt: ms('created_at').notNull(),
});

const emails = pgTable('emails', {
  id: text('id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull().unique(),
  to: text('to').notNull(),
  template: text('template').notNull(),
  subject: text('subject').notNull(),
  body: text('body').notNull(),
  orderId: text('order_id'),
  userId: text('user_id'),
  replays: integer('replays').notNull().default(0),
  createdAt: ms('created_at').notNull(),
});

const webhooks = pgTable('webhooks', {
  eventId: text('event_id').primaryKey(),
  orderId: text('order_id').notNull(),
  type: text('type').notNull(),
  payload: text('payload').notNull(),
  deliveries: integer('deliveries').notNull().default(1),
  receivedAt: ms('received_at').notNull(),
});

const productImages = pgTable(
  'product_images',
  {
    productId: text('product_id').notNull(),
    size: integer('size').notNull(),
    svg: text('svg').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.size] })],
);

const invoices = pgTable('invoices', {
  orderId: text('order_id').primaryKey(),
  number: text('number').notNull(),
  html: text('html').notNull(),
  createdAt: ms('created_at').notNull(),
});

/** Idempotent DDL matching the tables above (see sqlite.ts and the README for why not migrations). */
const DDL = `
CREATE TABLE IF NOT EXISTS products (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL,
  stock INTEGER NOT NULL CHECK (stock >= 0), initial_stock INTEGER NOT NULL, color TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity INTEGER NOT NULL,
  amount_cents INTEGER NOT NULL, email TEXT NOT NULL, card TEXT NOT NULL, address TEXT NOT NULL,
  status TEXT NOT NULL, cancel_reason TEXT, payment_id TEXT, label_url TEXT, saga_job_id TEXT,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE TABLE IF NOT EXISTS order_steps (
  order_id TEXT NOT NULL, step TEXT NOT NULL, job_id TEXT NOT NULL, PRIMARY KEY (order_id, step));
CREATE TABLE IF NOT EXISTS stock_reservations (
  order_id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity INTEGER NOT NULL,
  reserved_at BIGINT NOT NULL, released_at BIGINT);
CREATE TABLE IF NOT EXISTS payments (
  id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL,
  amount_cents INTEGER NOT NULL, status TEXT NOT NULL, replays INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (
  id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, payment_id TEXT NOT NULL,
  order_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, replays INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS shipments (
  id TEXT PRIMARY KEY, order_id TEXT NOT NULL UNIQUE, carrier TEXT NOT NULL,
  tracking_number TEXT NOT NULL, label_url TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS emails (
  id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, "to" TEXT NOT NULL,
  template TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, order_id TEXT, user_id TEXT,
  replays INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (
  event_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 1, received_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS product_images (
  product_id TEXT NOT NULL, size INTEGER NOT NULL, svg TEXT NOT NULL, created_at BIGINT NOT NULL,
  PRIMARY KEY (product_id, size));
CREATE TABLE IF NOT EXISTS invoices (
  order_id TEXT PRIMARY KEY, number TEXT NOT NULL, html TEXT NOT NULL, created_at BIGINT NOT NULL);
`;

/** Connects to PostgreSQL, creates the shop's tables, and shares the pool with Reseolio. */
export async function openPostgres(connectionString: string): Promise<ShopDatabase> {
  const pool = new pg.Pool({ connectionString, max: 20 });
  // An idle client whose backend went away emits 'error' on the pool; unhandled, that would
  // crash the shop. The pool replaces the client on the next query.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      // Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalogue;
      // the advisory lock makes two shops starting together take turns.
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('demo-shop:ddl'))");
      await client.query(DDL);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  const db = drizzle({ client: pool });
  // Reseolio's tables live in their own `reseolio` schema of the same database.
  const storage = createPostgresStorage({ pool });
  const url = new URL(connectionString);
  return {
    repo: new PostgresShopRepository(db),
    storage,
    description: `PostgreSQL ${url.host}${url.pathname}`,
    close: async () => {
      await storage.close();
      await pool.end();
    },
  };
}

type Db = ReturnType<typeof drizzle>;

/** Thrown inside a transaction to roll it back because the stock ran out. */
class OutOfStock extends Error {}

class PostgresShopRepository implements ShopRepository {
  readonly dialect = 'postgres' as const;
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async seedProducts(list: Parameters<ShopRepository['seedProducts']>[0]) {
    // Existing rows win: a restart must not reset stock that orders have taken.
    await this.#db
      .insert(products)
      .values(list.map((p) => ({ ...p, initialStock: p.stock })))
      .onConflictDoNothing();
  }

  async listProducts() {
    return this.#db.select().from(products).orderBy(products.priceCents);
  }

  async getProduct(id: string) {
    const [row] = await this.#db.select().from(products).where(eq(products.id, id));
    return row;
  }

  async upsertUser(user: Parameters<ShopRepository['upsertUser']>[0]) {
    const [inserted] = await this.#db
      .insert(users)
      .values({ ...user, createdAt: Date.now() })
      .onConflictDoNothing()
      .returning();
    if (inserted) return { user: inserted, created: true };
    const [existing] = await this.#db.select().from(users).where(eq(users.email, user.email));
    return { user: existing!, created: false };
  }

  async getUser(id: string) {
    const [row] = await this.#db.select().from(users).where(eq(users.id, id));
    return row;
  }

  async createOrder(
    order: Parameters<ShopRepository['createOrder']>[0],
    enqueue: Parameters<ShopRepository['createOrder']>[1],
  ) {
    // The order and its saga job commit together: Reseolio enqueues through this `tx`.
    return this.#db.transaction(async (tx) => {
      const now = Date.now();
      const [row] = await tx
        .insert(orders)
        .values({ ...order, status: 'placed', createdAt: now, updatedAt: now })
        .returning();
      const sagaJobId = await enqueue(row!, tx);
      await tx.update(orders).set({ sagaJobId }).where(eq(orders.id, row!.id));
      return { ...row!, sagaJobId };
    });
  }

  async getOrder(id: string) {
    const [row] = await this.#db.select().from(orders).where(eq(orders.id, id));
    return row;
  }

  async listOrders(limit: number) {
    return this.#db.select().from(orders).orderBy(desc(orders.createdAt)).limit(limit);
  }

  async listOrdersWithStatus(status: OrderStatus) {
    return this.#db.select().from(orders).where(eq(orders.status, status));
  }

  async updateOrder(id: string, patch: Parameters<ShopRepository['updateOrder']>[1]) {
    await this.#db
      .update(orders)
      .set({ ...patch, updatedAt: Date.now() })
      .where(eq(orders.id, id));
  }

  async startProcessing(id: string) {
    const rows = await this.#db
      .update(orders)
      .set({ status: 'processing', updatedAt: Date.now() })
      .where(and(eq(orders.id, id), eq(orders.status, 'placed')))
      .returning({ id: orders.id });
    return rows.length > 0;
  }

  async recordStep(step: Parameters<ShopRepository['recordStep']>[0]) {
    await this.#db.insert(orderSteps).values(step).onConflictDoNothing();
  }

  async listSteps(orderIds: string[]) {
    if (orderIds.length === 0) return [];
    return this.#db.select().from(orderSteps).where(inArray(orderSteps.orderId, orderIds));
  }

  async reserveStock(orderId: string, productId: string, quantity: number) {
    try {
      return await this.#db.transaction(async (tx): Promise<ReserveOutcome> => {
        // The reservation row comes first: its primary key makes a concurrent second attempt
        // for the same order wait here, then find the row and do nothing.
        const inserted = await tx
          .insert(stockReservations)
          .values({ orderId, productId, quantity, reservedAt: Date.now() })
          .onConflictDoNothing()
          .returning({ orderId: stockReservations.orderId });
        if (inserted.length === 0) return 'already-reserved';
        const taken = await tx
          .update(products)
          .set({ stock: sql`${products.stock} - ${quantity}` })
          .where(and(eq(products.id, productId), sql`${products.stock} >= ${quantity}`))
          .returning({ id: products.id });
        if (taken.length === 0) throw new OutOfStock();
        return 'reserved';
      });
    } catch (error) {
      if (error instanceof OutOfStock) return 'out-of-stock';
      throw error;
    }
  }

  async releaseStock(orderId: string) {
    return this.#db.transaction(async (tx): Promise<ReleaseOutcome> => {
      const [released] = await tx
        .update(stockReservations)
        .set({ releasedAt: Date.now() })
        .where(and(eq(stockReservations.orderId, orderId), isNull(stockReservations.releasedAt)))
        .returning();
      if (!released) {
        const [existing] = await tx
          .select({ orderId: stockReservations.orderId })
          .from(stockReservations)
          .where(eq(stockReservations.orderId, orderId));
        return existing ? 'already-released' : 'nothing-reserved';
      }
      await tx
        .update(products)
        .set({ stock: sql`${products.stock} + ${released.quantity}` })
        .where(eq(products.id, released.productId));
      return 'released';
    });
  }

  async recordPayment(payment: Parameters<ShopRepository['recordPayment']>[0]) {
    const [row] = await this.#db
      .insert(payments)
      .values(payment)
      .onConflictDoUpdate({
        target: payments.idempotencyKey,
        set: { replays: sql`${payments.replays} + 1` },
      })
      .returning();
    return row!;
  }

  async findPayment(idempotencyKey: string) {
    const [row] = await this.#db
      .select()
      .from(payments)
      .where(eq(payments.idempotencyKey, idempotencyKey));
    return row;
  }

  async recordRefund(refund: Parameters<ShopRepository['recordRefund']>[0]) {
    const [row] = await this.#db
      .insert(refunds)
      .values(refund)
      .onConflictDoUpdate({
        target: refunds.idempotencyKey,
        set: { replays: sql`${refunds.replays} + 1` },
      })
      .returning();
    return row!;
  }

  async recordShipment(shipment: Parameters<ShopRepository['recordShipment']>[0]) {
    await this.#db.insert(shipments).values(shipment).onConflictDoNothing();
    const [row] = await this.#db
      .select()
      .from(shipments)
      .where(eq(shipments.orderId, shipment.orderId));
    return row!;
  }

  async recordEmail(email: Parameters<ShopRepository['recordEmail']>[0]) {
    const [row] = await this.#db
      .insert(emails)
      .values(email)
      .onConflictDoUpdate({
        target: emails.idempotencyKey,
        set: { replays: sql`${emails.replays} + 1` },
      })
      .returning();
    return { email: row!, created: row!.replays === 0 };
  }

  async listEmails(limit: number) {
    return this.#db.select().from(emails).orderBy(desc(emails.createdAt)).limit(limit);
  }

  async recordWebhook(receipt: Parameters<ShopRepository['recordWebhook']>[0]) {
    const [row] = await this.#db
      .insert(webhooks)
      .values(receipt)
      .onConflictDoUpdate({
        target: webhooks.eventId,
        set: { deliveries: sql`${webhooks.deliveries} + 1` },
      })
      .returning();
    return row!;
  }

  async saveImage(image: Parameters<ShopRepository['saveImage']>[0]) {
    await this.#db
      .insert(productImages)
      .values(image)
      .onConflictDoUpdate({
        target: [productImages.productId, productImages.size],
        set: { svg: image.svg, createdAt: image.createdAt },
      });
  }

  async getImage(productId: string, size: number) {
    const [row] = await this.#db
      .select()
      .from(productImages)
      .where(and(eq(productImages.productId, productId), eq(productImages.size, size)));
    return row;
  }

  async listImageSizes() {
    return this.#db
      .select({ productId: productImages.productId, size: productImages.size })
      .from(productImages);
  }

  async saveInvoice(invoice: Parameters<ShopRepository['saveInvoice']>[0]) {
    await this.#db.insert(invoices).values(invoice).onConflictDoNothing();
  }

  async getInvoice(orderId: string) {
    const [row] = await this.#db.select().from(invoices).where(eq(invoices.orderId, orderId));
    return row;
  }

  async snapshot() {
    // One repeatable-read transaction, so the audit sees a consistent picture.
    return this.#db.transaction(
      async (tx) => ({
        products: await tx.select().from(products),
        orders: await tx.select().from(orders),
        reservations: await tx.select().from(stockReservations),
        payments: await tx.select().from(payments),
        refunds: await tx.select().from(refunds),
        shipments: await tx.select().from(shipments),
        emails: await tx.select().from(emails),
        webhooks: await tx.select().from(webhooks),
      }),
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }
}
