import { currentJob, type Reseolio } from 'reseolio';
import type { ShopDeps } from '../../deps.ts';
import { COMPENSATION_POLICY, STEP_POLICY } from '../policies.ts';
import { loadOrder } from './load-order.ts';

/** Step 4 (confirmation) and the cancellation notice sent after compensating. */
export function registerOrderEmails(reseolio: Reseolio, { repo, mailer }: ShopDeps) {
  const sendConfirmationEmail = reseolio.durable(
    reseolio.namespace('checkout', 'email', 'confirmation'),
    async (orderId: string) => {
      const order = await loadOrder(repo, orderId);
      const { email, created } = await mailer.send(
        {
          // The provider's key: a retry after "connection dropped" does not mail twice.
          idempotencyKey: `order-${orderId}-confirmation`,
          to: order.email,
          template: 'order-confirmation',
          subject: `Order ${orderId} confirmed`,
          body: `Thank you! Your order ships with label ${order.labelUrl ?? '(pending)'}.`,
          orderId,
        },
        currentJob()?.signal,
      );
      return { emailId: email.id, replayed: !created };
    },
    { ...STEP_POLICY, maxAttempts: 10 },
  );

  const sendCancellationEmail = reseolio.durable(
    reseolio.namespace('checkout', 'email', 'cancellation'),
    async (orderId: string) => {
      const order = await loadOrder(repo, orderId);
      const { email, created } = await mailer.send(
        {
          idempotencyKey: `order-${orderId}-cancellation`,
          to: order.email,
          template: 'order-cancelled',
          subject: `Order ${orderId} cancelled`,
          body: `We are sorry: ${order.cancelReason ?? 'the order could not be completed'}. Any charge has been refunded.`,
          orderId,
        },
        currentJob()?.signal,
      );
      return { emailId: email.id, replayed: !created };
    },
    COMPENSATION_POLICY,
  );

  return { sendConfirmationEmail, sendCancellationEmail };
}
