import { NonRetryableError, type Reseolio } from 'reseolio';
import type { ShopDeps } from '../../deps.ts';
import { COMPENSATION_POLICY, STEP_POLICY } from '../policies.ts';
import { loadOrder } from './load-order.ts';

/** Step 2 of the saga and its compensation. */
export function registerStockSteps(reseolio: Reseolio, { repo }: ShopDeps) {
  const reserveStock = reseolio.durable(
    reseolio.namespace('checkout', 'inventory', 'reserve'),
    async (orderId: string) => {
      const order = await loadOrder(repo, orderId);
      // One transaction takes the stock and records the reservation, keyed by order: a retry
      // (or a re-run after a crash) finds the reservation and takes nothing more.
      const outcome = await repo.reserveStock(orderId, order.productId, order.quantity);
      if (outcome === 'out-of-stock') {
        const product = await repo.getProduct(order.productId);
        throw new NonRetryableError(
          `out of stock: ${order.quantity} × ${product?.name ?? order.productId} wanted, ${product?.stock ?? 0} left`,
          { code: 'out_of_stock' },
        );
      }
      return { outcome, quantity: order.quantity };
    },
    STEP_POLICY,
  );

  const releaseStock = reseolio.durable(
    reseolio.namespace('checkout', 'inventory', 'release'),
    async (orderId: string) => ({ outcome: await repo.releaseStock(orderId) }),
    COMPENSATION_POLICY,
  );

  return { reserveStock, releaseStock };
}
