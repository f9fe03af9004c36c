import { NonRetryableError } from 'reseolio';
import type { Order, ShopRepository } from '../../db/repository.ts';

/** Steps receive only the order id (small payloads) and read fresh data here. */
export async function loadOrder(repo: ShopRepository, orderId: string): Promise<Order> {
  const order = await repo.getOrder(orderId);
  // Retrying cannot make a missing order appear: fail for good.
  if (!order) throw new NonRetryableError(`order ${orderId} does not exist`, { code: 'no_order' });
  return order;
}
