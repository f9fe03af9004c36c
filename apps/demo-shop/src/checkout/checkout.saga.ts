import { type DurableFunction, JobFailedError, type JobHandle, type Reseolio } from 'reseolio';
import type { ShopDeps } from '../deps.ts';
import type { OrderEventType } from '../durable/order-webhook.ts';
import { registerPaymentSteps } from './steps/charge-payment.ts';
import { registerShippingStep } from './steps/create-shipping-label.ts';
import { registerStockSteps } from './steps/reserve-stock.ts';
import { registerOrderEmails } from './steps/send-order-email.ts';

/** Every job an order's saga can start, in the order the page shows them. */
export const SAGA_STEPS = [
  'payment',
  'inventory',
  'shipping',
  'confirmation-email',
  'release-stock',
  'refund',
  'cancellation-email',
  'webhook',
] as const;
export type SagaStep = (typeof SAGA_STEPS)[number];

type OrderWebhook = DurableFunction<[orderId: string, type: OrderEventType], { status: number }>;
type AwaitDelivery = DurableFunction<[orderId: string], unknown>;

/**
 * Pattern 3, the saga: an orchestrating durable function that starts one durable function per
 * side effect, each with its own retry policy, and waits for each result before the next.
 *
 * Replays are the point. When the orchestrator's process dies, another attempt runs this
 * function from the top; every step call carries the same idempotency key, so it re-attaches
 * to the job that already ran (or still runs) instead of charging, reserving or mailing again.
 * Waiting on `result()` does not hold a worker slot, so 50 sagas waiting on their steps do not
 * starve the steps.
 */
export function registerCheckout(
  reseolio: Reseolio,
  deps: ShopDeps,
  deliverOrderWebhook: OrderWebhook,
  awaitDelivery: AwaitDelivery,
) {
  const { chargePayment, refundPayment } = registerPaymentSteps(reseolio, deps);
  const { reserveStock, releaseStock } = registerStockSteps(reseolio, deps);
  const { createShippingLabel } = registerShippingStep(reseolio, deps);
  const { sendConfirmationEmail, sendCancellationEmail } = registerOrderEmails(reseolio, deps);
  const { repo } = deps;

  const processOrder = reseolio.durable(
    reseolio.namespace('checkout', 'order', 'process'),
    async (orderId: string) => {
      await repo.startProcessing(orderId);

      /** Starts (or re-attaches to) one step and records its job for the page. */
      async function start<R>(
        step: SagaStep,
        fn: DurableFunction<[orderId: string], R>,
      ): Promise<JobHandle<R>> {
        const handle = await fn(orderId, { idempotencyKey: `process-${orderId}-${step}` });
        await repo.recordStep({ orderId, step, jobId: handle.jobId });
        return handle;
      }
      async function notify(type: OrderEventType): Promise<void> {
        const handle = await deliverOrderWebhook(orderId, type, {
          idempotencyKey: `process-${orderId}-webhook`,
        });
        await repo.recordStep({ orderId, step: 'webhook', jobId: handle.jobId });
      }

      let failure: { step: SagaStep; error: JobFailedError } | undefined;
      let current: SagaStep = 'payment';
      let labelUrl = '';
      try {
        await (await start('payment', chargePayment)).result();
        current = 'inventory';
        await (await start('inventory', reserveStock)).result();
        current = 'shipping';
        labelUrl = (await (await start('shipping', createShippingLabel)).result()).url;
      } catch (error) {
        // Only a step that died for good cancels the order. Anything else (storage down, the
        // engine stopping) fails this attempt, and the orchestrator is retried from the top.
        if (!(error instanceof JobFailedError)) throw error;
        failure = { step: current, error };
      }

      if (failure) {
        const details = await reseolio.getHandle(failure.error.jobId).details();
        // "<step>: <code>: <message>", e.g. "payment: card_declined: card ending 0002 was declined".
        const code = failure.error.errorCode ?? failure.error.errorName;
        const reason = `${failure.step}: ${code}: ${details.error?.message ?? failure.error.message}`;
        const order = await repo.getOrder(orderId);
        if (order?.status !== 'cancelled') {
          await repo.updateOrder(orderId, { status: 'cancelling', cancelReason: reason });
        }
        // Compensate in reverse order. Each compensation looks at what actually happened
        // (reservation row, payment ledger), so running all of them is safe whichever step died.
        await (await start('release-stock', releaseStock)).result();
        await (await start('refund', refundPayment)).result();
        await start('cancellation-email', sendCancellationEmail);
        await notify('order.cancelled');
        await repo.updateOrder(orderId, { status: 'cancelled' });
        return { status: 'cancelled' as const, reason };
      }

      // Fire and forget inside the orchestrator: enqueued durably, not awaited.
      await start('confirmation-email', sendConfirmationEmail);
      await notify('order.fulfilled');
      // Pattern 6: the delivery workflow, started once per order (a replayed saga re-attaches
      // by the key). It waits for the customer's "Confirm delivery", holding nothing.
      const delivery = await awaitDelivery(orderId, { idempotencyKey: `delivery-${orderId}` });
      await repo.updateOrder(orderId, {
        status: 'fulfilled',
        labelUrl,
        deliveryJobId: delivery.jobId,
      });
      return { status: 'fulfilled' as const, labelUrl };
    },
    // Generous: a lost attempt (process killed) counts as one, and the whole saga may wait
    // on several steps' retries.
    { maxAttempts: 10, timeoutMs: 300_000 },
  );

  return {
    processOrder,
    chargePayment,
    refundPayment,
    reserveStock,
    releaseStock,
    createShippingLabel,
    sendConfirmationEmail,
    sendCancellationEmail,
  };
}
