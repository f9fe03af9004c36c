import type { StorageAdapter } from 'reseolio';

/**
 * The shop's data access, one interface for both databases. `sql-repository.ts` implements it
 * once, over the driver of `sqlite.ts` or `postgres.ts`; everything else in the app only sees
 * this file. All times are epoch milliseconds.
 */

export interface Product {
  id: string;
  name: string;
  priceCents: number;
  stock: number;
  /** Stock when seeded: the audit checks stock = initial − active reservations. */
  initialStock: number;
  color: string;
}

export interface User {
  id: string;
  email: string;
  name: string;
  createdAt: number;
}

/** placed → processing → fulfilled, or → cancelling → cancelled. */
export type OrderStatus = 'placed' | 'processing' | 'fulfilled' | 'cancelling' | 'cancelled';

export interface Order {
  id: string;
  productId: string;
  quantity: number;
  amountCents: number;
  email: string;
  card: string;
  address: string;
  status: OrderStatus;
  cancelReason: string | null;
  paymentId: string | null;
  labelUrl: string | null;
  sagaJobId: string | null;
  /** The delivery workflow's job (started when the order is fulfilled): it waits for the customer. */
  deliveryJobId: string | null;
  /** When the delivery was recorded, once; null until then. */
  deliveredAt: number | null;
  /** Who confirmed it: the customer's click, or the workflow's timeout. */
  deliveryConfirmedBy: DeliveryConfirmedBy | null;
  createdAt: number;
  updatedAt: number;
}

export type DeliveryConfirmedBy = 'customer' | 'auto';

export type NewOrder = Pick<
  Order,
  'id' | 'productId' | 'quantity' | 'amountCents' | 'email' | 'card' | 'address'
>;

export type OrderPatch = Partial<
  Pick<Order, 'status' | 'cancelReason' | 'paymentId' | 'labelUrl' | 'sagaJobId' | 'deliveryJobId'>
>;

/** The Reseolio job that ran one saga step of an order (the page shows its live state). */
export interface OrderStep {
  orderId: string;
  step: string;
  jobId: string;
}

export interface StockReservation {
  orderId: string;
  productId: string;
  quantity: number;
  reservedAt: number;
  releasedAt: number | null;
}

/** The payment gateway's ledger. One row per idempotency key: a retry cannot add a second. */
export interface Payment {
  id: string;
  idempotencyKey: string;
  orderId: string;
  amountCents: number;
  status: 'succeeded' | 'declined';
  /** How many times a retried request hit this key and got the stored answer instead. */
  replays: number;
  createdAt: number;
}

export interface Refund {
  id: string;
  idempotencyKey: string;
  paymentId: string;
  orderId: string;
  amountCents: number;
  replays: number;
  createdAt: number;
}

export interface Shipment {
  id: string;
  orderId: string;
  carrier: string;
  trackingNumber: string;
  labelUrl: string;
  createdAt: number;
}

/** The mail provider's outbox. One row per idempotency key: a retried send is a replay. */
export interface Email {
  id: string;
  idempotencyKey: string;
  to: string;
  template: string;
  subject: string;
  body: string;
  orderId: string | null;
  userId: string | null;
  replays: number;
  createdAt: number;
}

/** A webhook event the shop's receiver accepted (signature verified). */
export interface WebhookReceipt {
  eventId: string;
  orderId: string;
  type: string;
  payload: string;
  /** Deliveries of this event: more than 1 means at-least-once delivery repeated it. */
  deliveries: number;
  receivedAt: number;
}

export interface ProductImage {
  productId: string;
  size: number;
  svg: string;
  createdAt: number;
}

export interface Invoice {
  orderId: string;
  number: string;
  html: string;
  createdAt: number;
}

export type ReserveOutcome = 'reserved' | 'already-reserved' | 'out-of-stock';
export type ReleaseOutcome = 'released' | 'already-released' | 'nothing-reserved';

/** Every table's rows, for the audit. */
export interface ShopSnapshot {
  products: Product[];
  orders: Order[];
  reservations: StockReservation[];
  payments: Payment[];
  refunds: Refund[];
  shipments: Shipment[];
  emails: Email[];
  webhooks: WebhookReceipt[];
}

export interface ShopRepository {
  readonly dialect: 'sqlite' | 'postgres';

  /** Inserts the catalogue unless products exist already (restarts keep their stock). */
  seedProducts(products: Omit<Product, 'initialStock'>[]): Promise<void>;
  listProducts(): Promise<Product[]>;
  getProduct(id: string): Promise<Product | undefined>;

  /** Creates the user, or returns the existing one with that email. */
  upsertUser(user: Omit<User, 'createdAt'>): Promise<{ user: User; created: boolean }>;
  getUser(id: string): Promise<User | undefined>;

  /**
   * Inserts an order (status `placed`) and calls `enqueue` to start its saga. On PostgreSQL
   * both happen in one transaction (`transaction` is its pg client, to pass to Reseolio), so
   * an order never exists without its saga. SQLite cannot lend its transaction to the job
   * store, so there `transaction` is undefined and `recoverPlacedOrders` covers the gap.
   */
  createOrder(
    order: NewOrder,
    enqueue: (order: Order, transaction: unknown) => Promise<string>,
  ): Promise<Order>;
  getOrder(id: string): Promise<Order | undefined>;
  listOrders(limit: number): Promise<Order[]>;
  listOrdersWithStatus(status: OrderStatus): Promise<Order[]>;
  updateOrder(id: string, patch: OrderPatch): Promise<void>;
  /** Moves `placed` to `processing`; false when the order was already past `placed`. */
  startProcessing(id: string): Promise<boolean>;
  /**
   * Records the order's delivery once: the first call sets `deliveredAt` and
   * `deliveryConfirmedBy`, later ones change nothing. Returns the order as stored.
   */
  recordDelivery(id: string, by: DeliveryConfirmedBy, at: number): Promise<Order | undefined>;

  recordStep(step: OrderStep): Promise<void>;
  listSteps(orderIds: string[]): Promise<OrderStep[]>;

  /** Atomically takes `quantity` from stock for the order, once per order. */
  reserveStock(orderId: string, productId: string, quantity: number): Promise<ReserveOutcome>;
  /** Atomically gives the order's reservation back to stock, once. */
  releaseStock(orderId: string): Promise<ReleaseOutcome>;

  /** Stores the charge, or returns the one stored under the same key (and counts a replay). */
  recordPayment(payment: Omit<Payment, 'replays'>): Promise<Payment>;
  findPayment(idempotencyKey: string): Promise<Payment | undefined>;
  recordRefund(refund: Omit<Refund, 'replays'>): Promise<Refund>;
  /** Stores the shipment, or returns the order's existing one. */
  recordShipment(shipment: Shipment): Promise<Shipment>;
  /** Stores the email, or returns the one stored under the same key (and counts a replay). */
  recordEmail(email: Omit<Email, 'replays'>): Promise<{ email: Email; created: boolean }>;
  listEmails(limit: number): Promise<Email[]>;

  /** Stores a received webhook event, or counts one more delivery of a known event. */
  recordWebhook(receipt: Omit<WebhookReceipt, 'deliveries'>): Promise<WebhookReceipt>;

  saveImage(image: ProductImage): Promise<void>;
  getImage(productId: string, size: number): Promise<ProductImage | undefined>;
  listImageSizes(): Promise<{ productId: string; size: number }[]>;

  saveInvoice(invoice: Invoice): Promise<void>;
  getInvoice(orderId: string): Promise<Invoice | undefined>;

  snapshot(): Promise<ShopSnapshot>;
}

/** An open database: the shop's repository and Reseolio's storage on the same database. */
export interface ShopDatabase {
  repo: ShopRepository;
  /** Borrowed by the engine (it does not close it); `close()` below does. */
  storage: StorageAdapter;
  /** Where the data lives, for the start-up banner (never includes a password). */
  description: string;
  close(): Promise<void>;
}
