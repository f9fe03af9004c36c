import { currentJob, type Reseolio, step, waitForSignal } from 'reseolio';
import { loadOrder } from '../checkout/steps/load-order.ts';
import type { DeliveryConfirmedBy } from '../db/repository.ts';
import type { ShopDeps } from '../deps.ts';

/** The signal the "Confirm delivery" button sends to an order's delivery job. */
export const DELIVERY_CONFIRMED = 'delivery-confirmed';

/** The signal's payload: when the customer clicked. */
export interface DeliveryConfirmation {
  at: number;
}

/**
 * Pattern 6, a durable workflow: started when an order is fulfilled, the job waits for the
 * customer's "Confirm delivery" (a signal) for at most `delivery.autoConfirmMs`, then records
 * the delivery and thanks the customer. While it waits it is `waiting`: no lease, no worker
 * slot, and it survives restarts (the wait and its deadline live in the database).
 *
 * The handler runs again from the top after the wait (and after any retry): `waitForSignal`
 * returns the payload it consumed the first time (or `null`, the timeout), and each `step`
 * its recorded result. Everything with an effect is inside a step, and is idempotent in the
 * database too (first delivery write wins, the mail provider keeps one email per key), for a
 * crash between the effect and the step's record.
 */
export function registerDelivery(reseolio: Reseolio, { repo, mailer, delivery }: ShopDeps) {
  const awaitDelivery = reseolio.durable(
    reseolio.namespace('orders', 'delivery', 'await'),
    async (orderId: string) => {
      const confirmation = await waitForSignal<DeliveryConfirmation>(DELIVERY_CONFIRMED, {
        timeoutMs: delivery.autoConfirmMs,
      });
      const by: DeliveryConfirmedBy = confirmation === null ? 'auto' : 'customer';
      const recorded = await step('record-delivery', async () => {
        // The time comes from the signal, or is taken once inside the step: never outside one.
        const order = await repo.recordDelivery(orderId, by, confirmation?.at ?? Date.now());
        return { deliveredAt: order?.deliveredAt ?? null, confirmedBy: order?.deliveryConfirmedBy };
      });
      await step('delivered-email', async () => {
        const order = await loadOrder(repo, orderId);
        const { email } = await mailer.send(
          {
            idempotencyKey: `order-${orderId}-delivered`,
            to: order.email,
            template: 'order-delivered',
            subject: `Order ${orderId} delivered`,
            body:
              recorded.confirmedBy === 'customer'
                ? 'Thanks for confirming the delivery. Enjoy!'
                : 'We marked your order as delivered. Something missing? Just reply.',
            orderId,
          },
          currentJob()?.signal,
        );
        return email.id;
      });
      return recorded;
    },
    // Attempts are for the email step's flaky provider; the wait itself costs none.
    { maxAttempts: 10, backoff: 'exponential', initialDelayMs: 250, maxDelayMs: 4_000 },
  );
  return { awaitDelivery };
}
