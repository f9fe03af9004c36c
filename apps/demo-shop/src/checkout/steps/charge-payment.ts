import { currentJob, NonRetryableError, type Reseolio } from 'reseolio';
import type { ShopDeps } from '../../deps.ts';
import { COMPENSATION_POLICY, STEP_POLICY } from '../policies.ts';
import { loadOrder } from './load-order.ts';

/** The gateway key of an order's charge: the same on every retry, so it charges once. */
export const chargeKey = (orderId: string) => `order-${orderId}-charge`;

/** Step 1 of the saga and its compensation. */
export function registerPaymentSteps(reseolio: Reseolio, { repo, gateway }: ShopDeps) {
  const chargePayment = reseolio.durable(
    reseolio.namespace('checkout', 'payment', 'charge'),
    async (orderId: string) => {
      const order = await loadOrder(repo, orderId);
      const payment = await gateway.charge(
        {
          idempotencyKey: chargeKey(orderId),
          orderId,
          amountCents: order.amountCents,
          card: order.card,
        },
        currentJob()?.signal,
      );
      if (payment.status === 'declined') {
        throw new NonRetryableError(`card ending ${order.card.slice(-4)} was declined`, {
          code: 'card_declined',
        });
      }
      await repo.updateOrder(orderId, { paymentId: payment.id });
      return { paymentId: payment.id, amountCents: payment.amountCents };
    },
    STEP_POLICY,
  );

  /** Refunds whatever the ledger holds for the order; a no-op when nothing was charged. */
  const refundPayment = reseolio.durable(
    reseolio.namespace('checkout', 'payment', 'refund'),
    async (orderId: string) => {
      // The ledger, not the step's outcome, says whether money moved: a charge step can die
      // after the gateway charged (response lost on the last attempt).
      const payment = await repo.findPayment(chargeKey(orderId));
      if (payment?.status !== 'succeeded') return { refunded: false };
      const refund = await gateway.refund(
        { idempotencyKey: `order-${orderId}-refund`, payment },
        currentJob()?.signal,
      );
      return { refunded: true, refundId: refund.id, amountCents: refund.amountCents };
    },
    COMPENSATION_POLICY,
  );

  return { chargePayment, refundPayment };
}
