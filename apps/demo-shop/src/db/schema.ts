import type {
  Email,
  Invoice,
  Order,
  OrderStep,
  Payment,
  Product,
  ProductImage,
  Refund,
  Shipment,
  StockReservation,
  User,
  WebhookReceipt,
} from './repository.ts';
import { table } from './table.ts';

/**
 * The shop's tables, `CREATE TABLE IF NOT EXISTS` run at every start. The demo's schema has a
 * single version, so that is all the migration it needs (see the README). The two databases
 * differ in one word: `time`, the type of the epoch-millisecond columns, which need 64 bits
 * (SQLite's INTEGER has them; PostgreSQL's has 32, so there it is BIGINT).
 */
export function schemaDdl(time: 'INTEGER' | 'BIGINT'): string {
  return `
CREATE TABLE IF NOT EXISTS products (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL,
  stock INTEGER NOT NULL CHECK (stock >= 0), initial_stock INTEGER NOT NULL, color TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at ${time} NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity INTEGER NOT NULL,
  amount_cents INTEGER NOT NULL, email TEXT NOT NULL, card TEXT NOT NULL, address TEXT NOT NULL,
  status TEXT NOT NULL, cancel_reason TEXT, payment_id TEXT, label_url TEXT, saga_job_id TEXT,
  created_at ${time} NOT NULL, updated_at ${time} NOT NULL,
  delivery_job_id TEXT, delivered_at ${time}, delivery_confirmed_by TEXT);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE TABLE IF NOT EXISTS order_steps (
  order_id TEXT NOT NULL, step TEXT NOT NULL, job_id TEXT NOT NULL, PRIMARY KEY (order_id, step));
CREATE TABLE IF NOT EXISTS stock_reservations (
  order_id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity INTEGER NOT NULL,
  reserved_at ${time} NOT NULL, released_at ${time});
CREATE TABLE IF NOT EXISTS payments (
  id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL,
  amount_cents INTEGER NOT NULL, status TEXT NOT NULL, replays INTEGER NOT NULL DEFAULT 0,
  created_at ${time} NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (
  id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, payment_id TEXT NOT NULL,
  order_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, replays INTEGER NOT NULL DEFAULT 0,
  created_at ${time} NOT NULL);
CREATE TABLE IF NOT EXISTS shipments (
  id TEXT PRIMARY KEY, order_id TEXT NOT NULL UNIQUE, carrier TEXT NOT NULL,
  tracking_number TEXT NOT NULL, label_url TEXT NOT NULL, created_at ${time} NOT NULL);
CREATE TABLE IF NOT EXISTS emails (
  id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, "to" TEXT NOT NULL,
  template TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, order_id TEXT, user_id TEXT,
  replays INTEGER NOT NULL DEFAULT 0, created_at ${time} NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (
  event_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 1, received_at ${time} NOT NULL);
CREATE TABLE IF NOT EXISTS product_images (
  product_id TEXT NOT NULL, size INTEGER NOT NULL, svg TEXT NOT NULL, created_at ${time} NOT NULL,
  PRIMARY KEY (product_id, size));
CREATE TABLE IF NOT EXISTS invoices (
  order_id TEXT PRIMARY KEY, number TEXT NOT NULL, html TEXT NOT NULL, created_at ${time} NOT NULL);
`;
}

/**
 * Columns added after the first version of a table. A database created before them gets them
 * at start: `sqlite.ts` adds each one its table lacks (SQLite has no ADD COLUMN IF NOT EXISTS),
 * `postgres.ts` runs ADD COLUMN IF NOT EXISTS. Either way a second start changes nothing.
 */
export function addedColumns(
  time: 'INTEGER' | 'BIGINT',
): { table: string; column: string; type: string }[] {
  return [
    { table: 'orders', column: 'delivery_job_id', type: 'TEXT' },
    { table: 'orders', column: 'delivered_at', type: time },
    { table: 'orders', column: 'delivery_confirmed_by', type: 'TEXT' },
  ];
}

// The records' fields, in the order of the columns above (their names are the snake_case ones).

export const products = table<Product>('products', [
  'id',
  'name',
  'priceCents',
  'stock',
  'initialStock',
  'color',
]);
export const users = table<User>('users', ['id', 'email', 'name', 'createdAt']);
export const orders = table<Order>('orders', [
  'id',
  'productId',
  'quantity',
  'amountCents',
  'email',
  'card',
  'address',
  'status',
  'cancelReason',
  'paymentId',
  'labelUrl',
  'sagaJobId',
  'createdAt',
  'updatedAt',
  'deliveryJobId',
  'deliveredAt',
  'deliveryConfirmedBy',
]);
export const orderSteps = table<OrderStep>('order_steps', ['orderId', 'step', 'jobId']);
export const stockReservations = table<StockReservation>('stock_reservations', [
  'orderId',
  'productId',
  'quantity',
  'reservedAt',
  'releasedAt',
]);
export const payments = table<Payment>('payments', [
  'id',
  'idempotencyKey',
  'orderId',
  'amountCents',
  'status',
  'replays',
  'createdAt',
]);
export const refunds = table<Refund>('refunds', [
  'id',
  'idempotencyKey',
  'paymentId',
  'orderId',
  'amountCents',
  'replays',
  'createdAt',
]);
export const shipments = table<Shipment>('shipments', [
  'id',
  'orderId',
  'carrier',
  'trackingNumber',
  'labelUrl',
  'createdAt',
]);
export const emails = table<Email>('emails', [
  'id',
  'idempotencyKey',
  'to',
  'template',
  'subject',
  'body',
  'orderId',
  'userId',
  'replays',
  'createdAt',
]);
export const webhooks = table<WebhookReceipt>('webhooks', [
  'eventId',
  'orderId',
  'type',
  'payload',
  'deliveries',
  'receivedAt',
]);
export const productImages = table<ProductImage>('product_images', [
  'productId',
  'size',
  'svg',
  'createdAt',
]);
export const invoices = table<Invoice>('invoices', ['orderId', 'number', 'html', 'createdAt']);
