import type { NewOrder } from '../src/db/repository.ts';

/** An order as the shop stores it before its saga starts: one mug unless `patch` says otherwise. */
export function newOrder(id: string, patch: Partial<NewOrder> = {}): NewOrder {
  return {
    id,
    productId: 'mug',
    quantity: 1,
    amountCents: 1200,
    email: 'a@example.com',
    card: '4242424242424242',
    address: 'here',
    ...patch,
  };
}
