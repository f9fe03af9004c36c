import { randomBytes } from 'node:crypto';
import type { Reseolio } from 'reseolio';
import { registerCheckout } from './checkout/checkout.saga.ts';
import type { Order, Product } from './db/repository.ts';
import type { ShopDeps } from './deps.ts';
import { registerDelivery } from './durable/delivery.ts';
import { registerInvoice } from './durable/invoice.ts';
import { registerOrderWebhook } from './durable/order-webhook.ts';
import { registerProductImages } from './durable/product-images.ts';
import { registerSalesReport } from './durable/sales-report.ts';
import { registerWelcomeEmail } from './durable/welcome-email.ts';

/** The catalogue seeded on first start. The lamp's small stock makes "out of stock" easy to hit. */
export const CATALOGUE: Omit<Product, 'initialStock'>[] = [
  { id: 'mug', name: 'Durable mug', priceCents: 1200, stock: 1000, color: '#2f6f4f' },
  { id: 'tee', name: 'Retry tee', priceCents: 2500, stock: 1000, color: '#3a5a98' },
  { id: 'lamp', name: 'Lease lamp', priceCents: 4900, stock: 5, color: '#b5651d' },
];

export interface OrderRequest {
  productId: string;
  quantity: number;
  email: string;
  card: string;
  address: string;
}

/** Registers every durable function of the shop on `reseolio` and returns them with the use cases. */
export function createShop(reseolio: Reseolio, deps: ShopDeps) {
  const { deliverOrderWebhook } = registerOrderWebhook(reseolio, deps);
  const { awaitDelivery } = registerDelivery(reseolio, deps);
  const checkout = registerCheckout(reseolio, deps, deliverOrderWebhook, awaitDelivery);
  const { sendWelcomeEmail } = registerWelcomeEmail(reseolio, deps);
  const { generateInvoice } = registerInvoice(reseolio, deps);
  const { processProductImages, resizeImage } = registerProductImages(reseolio, deps);
  const { sendSalesReport } = registerSalesReport(reseolio, deps);
  const { repo } = deps;

  /** The saga's key: placing or recovering the same order always finds the same job. */
  const sagaKey = (orderId: string) => `checkout-${orderId}`;

  return {
    ...checkout,
    deliverOrderWebhook,
    awaitDelivery,
    sendWelcomeEmail,
    generateInvoice,
    processProductImages,
    resizeImage,
    sendSalesReport,

    /** Stores the order and starts its saga (in one transaction on PostgreSQL). */
    async placeOrder(request: OrderRequest): Promise<Order | undefined> {
      const product = await repo.getProduct(request.productId);
      if (!product) return undefined;
      return repo.createOrder(
        {
          id: `ord_${randomBytes(6).toString('hex')}`,
          productId: product.id,
          quantity: request.quantity,
          amountCents: product.priceCents * request.quantity,
          email: request.email,
          card: request.card,
          address: request.address,
        },
        async (order, transaction) => {
          const handle = await checkout.processOrder.enqueue(
            [order.id],
            transaction === undefined
              ? { idempotencyKey: sagaKey(order.id) }
              : { idempotencyKey: sagaKey(order.id), transaction },
          );
          return handle.jobId;
        },
      );
    },

    /**
     * On start: orders still `placed` may lack their saga (SQLite, process killed between the
     * order insert and the enqueue). Enqueuing again with the saga's key is harmless when the
     * job exists: it returns that job.
     */
    async recoverPlacedOrders(): Promise<number> {
      const placed = await repo.listOrdersWithStatus('placed');
      for (const order of placed) {
        const handle = await checkout.processOrder(order.id, { idempotencyKey: sagaKey(order.id) });
        if (order.sagaJobId !== handle.jobId) {
          await repo.updateOrder(order.id, { sagaJobId: handle.jobId });
        }
      }
      return placed.length;
    },
  };
}

export type Shop = ReturnType<typeof createShop>;
