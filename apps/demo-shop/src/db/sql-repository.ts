import { type SQL, sql } from 'drizzle-orm';
import { rows, type SqlDriver, type Work } from './driver.ts';
import type {
  DeliveryConfirmedBy,
  Email,
  Invoice,
  Order,
  OrderStatus,
  OrderStep,
  Payment,
  Product,
  ProductImage,
  Refund,
  ReleaseOutcome,
  ReserveOutcome,
  Shipment,
  ShopRepository,
  ShopSnapshot,
  StockReservation,
  User,
  WebhookReceipt,
} from './repository.ts';
import {
  emails,
  invoices,
  orderSteps,
  orders,
  payments,
  productImages,
  products,
  refunds,
  shipments,
  stockReservations,
  users,
  webhooks,
} from './schema.ts';
import type { Table } from './table.ts';

/** Thrown inside a transaction to roll it back because the stock ran out. */
class OutOfStock extends Error {}

/**
 * The shop's repository, once for both databases: SQL that SQLite and PostgreSQL both run,
 * over the dialect's {@link SqlDriver}. Idempotency lives in the statements (unique keys,
 * ON CONFLICT), so a retried job step finds what its earlier attempt stored.
 */
export class SqlShopRepository implements ShopRepository {
  readonly dialect: SqlDriver['dialect'];
  readonly #driver: SqlDriver;

  constructor(driver: SqlDriver) {
    this.#driver = driver;
    this.dialect = driver.dialect;
  }

  async #one<R>(statement: SQL): Promise<R | undefined> {
    const [row] = await this.#driver.query<R>(statement);
    return row;
  }

  async seedProducts(list: Parameters<ShopRepository['seedProducts']>[0]) {
    if (list.length === 0) return;
    // Existing rows win: a restart must not reset stock that orders have taken.
    const seeded = list.map((p) => ({ ...p, initialStock: p.stock }));
    await this.#driver.query(sql`${products.insert(seeded)} ON CONFLICT DO NOTHING`);
  }

  async listProducts() {
    return this.#driver.query<Product>(
      sql`SELECT ${products.columns} FROM products ORDER BY price_cents`,
    );
  }

  async getProduct(id: string) {
    return this.#one<Product>(sql`SELECT ${products.columns} FROM products WHERE id = ${id}`);
  }

  async upsertUser(user: Parameters<ShopRepository['upsertUser']>[0]) {
    const inserted = await this.#one<User>(
      sql`${users.insert({ ...user, createdAt: Date.now() })}
          ON CONFLICT DO NOTHING RETURNING ${users.columns}`,
    );
    if (inserted) return { user: inserted, created: true };
    const existing = await this.#one<User>(
      sql`SELECT ${users.columns} FROM users WHERE email = ${user.email}`,
    );
    return { user: existing!, created: false };
  }

  async getUser(id: string) {
    return this.#one<User>(sql`SELECT ${users.columns} FROM users WHERE id = ${id}`);
  }

  async createOrder(
    order: Parameters<ShopRepository['createOrder']>[0],
    enqueue: Parameters<ShopRepository['createOrder']>[1],
  ) {
    // On PostgreSQL the order and its saga job commit together: Reseolio enqueues through
    // `transaction`. On SQLite a crash between the insert and the enqueue leaves a `placed`
    // order without a saga, which recoverPlacedOrders() enqueues on the next start.
    return this.#driver.lendTransaction(async (query, transaction) => {
      const now = Date.now();
      const [row] = await query<Order>(
        sql`${orders.insert({ ...order, status: 'placed', createdAt: now, updatedAt: now })}
            RETURNING ${orders.columns}`,
      );
      const sagaJobId = await enqueue(row!, transaction);
      await query(sql`UPDATE orders SET saga_job_id = ${sagaJobId} WHERE id = ${row!.id}`);
      return { ...row!, sagaJobId };
    });
  }

  async getOrder(id: string) {
    return this.#one<Order>(sql`SELECT ${orders.columns} FROM orders WHERE id = ${id}`);
  }

  async listOrders(limit: number) {
    return this.#driver.query<Order>(
      sql`SELECT ${orders.columns} FROM orders ORDER BY created_at DESC LIMIT ${limit}`,
    );
  }

  async listOrdersWithStatus(status: OrderStatus) {
    return this.#driver.query<Order>(
      sql`SELECT ${orders.columns} FROM orders WHERE status = ${status}`,
    );
  }

  async updateOrder(id: string, patch: Parameters<ShopRepository['updateOrder']>[1]) {
    await this.#driver.query(
      sql`UPDATE orders SET ${orders.set({ ...patch, updatedAt: Date.now() })} WHERE id = ${id}`,
    );
  }

  async startProcessing(id: string) {
    const moved = await this.#driver.query(
      sql`UPDATE orders SET status = 'processing', updated_at = ${Date.now()}
          WHERE id = ${id} AND status = 'placed' RETURNING id`,
    );
    return moved.length > 0;
  }

  async recordDelivery(id: string, by: DeliveryConfirmedBy, at: number) {
    // First write wins: a repeated call (a retried step) finds delivered_at set and keeps it.
    await this.#driver.query(
      sql`UPDATE orders SET delivered_at = ${at}, delivery_confirmed_by = ${by}, updated_at = ${at}
          WHERE id = ${id} AND delivered_at IS NULL`,
    );
    return this.getOrder(id);
  }

  async recordStep(step: OrderStep) {
    await this.#driver.query(sql`${orderSteps.insert(step)} ON CONFLICT DO NOTHING`);
  }

  async listSteps(orderIds: string[]) {
    if (orderIds.length === 0) return [];
    return this.#driver.query<OrderStep>(
      sql`SELECT ${orderSteps.columns} FROM order_steps WHERE order_id IN ${orderIds}`,
    );
  }

  async reserveStock(orderId: string, productId: string, quantity: number) {
    try {
      return await this.#driver.transaction('write', function* (): Work<ReserveOutcome> {
        // The reservation row comes first: on PostgreSQL its primary key makes a concurrent
        // second attempt for the same order wait here, then find the row and do nothing.
        const reservation = { orderId, productId, quantity, reservedAt: Date.now() };
        const inserted = yield* rows(
          sql`${stockReservations.insert(reservation)} ON CONFLICT DO NOTHING RETURNING order_id`,
        );
        if (inserted.length === 0) return 'already-reserved';
        const taken = yield* rows(
          sql`UPDATE products SET stock = stock - ${quantity}
              WHERE id = ${productId} AND stock >= ${quantity} RETURNING id`,
        );
        if (taken.length === 0) throw new OutOfStock();
        return 'reserved';
      });
    } catch (error) {
      if (error instanceof OutOfStock) return 'out-of-stock';
      throw error;
    }
  }

  async releaseStock(orderId: string) {
    return this.#driver.transaction('write', function* (): Work<ReleaseOutcome> {
      const [released] = yield* rows<StockReservation>(
        sql`UPDATE stock_reservations SET released_at = ${Date.now()}
            WHERE order_id = ${orderId} AND released_at IS NULL
            RETURNING ${stockReservations.columns}`,
      );
      if (!released) {
        const existing = yield* rows(
          sql`SELECT order_id FROM stock_reservations WHERE order_id = ${orderId}`,
        );
        return existing.length > 0 ? 'already-released' : 'nothing-reserved';
      }
      yield* rows(
        sql`UPDATE products SET stock = stock + ${released.quantity}
            WHERE id = ${released.productId}`,
      );
      return 'released';
    });
  }

  /**
   * Stores `record`, or, when a row with its `key` is stored already, adds one to that row's
   * `counter` (a replay, a delivery). Either way returns the stored row: a retried request
   * gets the answer of the first one.
   */
  async #storeOnce<R>(
    table: Table<R>,
    record: Partial<R>,
    key: keyof R & string,
    counter: keyof R & string,
  ): Promise<R> {
    const count = table.column(counter);
    return (await this.#one<R>(
      sql`${table.insert(record)} ON CONFLICT (${table.column(key)})
          DO UPDATE SET ${count} = ${table.name}.${count} + 1 RETURNING ${table.columns}`,
    ))!;
  }

  async recordPayment(payment: Omit<Payment, 'replays'>) {
    return this.#storeOnce(payments, payment, 'idempotencyKey', 'replays');
  }

  async findPayment(idempotencyKey: string) {
    return this.#one<Payment>(
      sql`SELECT ${payments.columns} FROM payments WHERE idempotency_key = ${idempotencyKey}`,
    );
  }

  async recordRefund(refund: Omit<Refund, 'replays'>) {
    return this.#storeOnce(refunds, refund, 'idempotencyKey', 'replays');
  }

  async recordShipment(shipment: Shipment) {
    await this.#driver.query(sql`${shipments.insert(shipment)} ON CONFLICT DO NOTHING`);
    return (await this.#one<Shipment>(
      sql`SELECT ${shipments.columns} FROM shipments WHERE order_id = ${shipment.orderId}`,
    ))!;
  }

  async recordEmail(email: Omit<Email, 'replays'>) {
    const row = await this.#storeOnce(emails, email, 'idempotencyKey', 'replays');
    return { email: row, created: row.replays === 0 };
  }

  async listEmails(limit: number) {
    return this.#driver.query<Email>(
      sql`SELECT ${emails.columns} FROM emails ORDER BY created_at DESC LIMIT ${limit}`,
    );
  }

  async recordWebhook(receipt: Omit<WebhookReceipt, 'deliveries'>) {
    return this.#storeOnce(webhooks, receipt, 'eventId', 'deliveries');
  }

  async saveImage(image: ProductImage) {
    await this.#driver.query(
      sql`${productImages.insert(image)} ON CONFLICT (product_id, size)
          DO UPDATE SET svg = ${image.svg}, created_at = ${image.createdAt}`,
    );
  }

  async getImage(productId: string, size: number) {
    return this.#one<ProductImage>(
      sql`SELECT ${productImages.columns} FROM product_images
          WHERE product_id = ${productId} AND size = ${size}`,
    );
  }

  async listImageSizes() {
    return this.#driver.query<{ productId: string; size: number }>(
      sql`SELECT product_id AS "productId", size FROM product_images`,
    );
  }

  async saveInvoice(invoice: Invoice) {
    await this.#driver.query(sql`${invoices.insert(invoice)} ON CONFLICT DO NOTHING`);
  }

  async getInvoice(orderId: string) {
    return this.#one<Invoice>(
      sql`SELECT ${invoices.columns} FROM invoices WHERE order_id = ${orderId}`,
    );
  }

  async snapshot() {
    // One read transaction, so the audit sees a consistent picture.
    return this.#driver.transaction('read', function* (): Work<ShopSnapshot> {
      return {
        products: yield* rows<Product>(sql`SELECT ${products.columns} FROM products`),
        orders: yield* rows<Order>(sql`SELECT ${orders.columns} FROM orders`),
        reservations: yield* rows<StockReservation>(
          sql`SELECT ${stockReservations.columns} FROM stock_reservations`,
        ),
        payments: yield* rows<Payment>(sql`SELECT ${payments.columns} FROM payments`),
        refunds: yield* rows<Refund>(sql`SELECT ${refunds.columns} FROM refunds`),
        shipments: yield* rows<Shipment>(sql`SELECT ${shipments.columns} FROM shipments`),
        emails: yield* rows<Email>(sql`SELECT ${emails.columns} FROM emails`),
        webhooks: yield* rows<WebhookReceipt>(sql`SELECT ${webhooks.columns} FROM webhooks`),
      };
    });
  }
}
