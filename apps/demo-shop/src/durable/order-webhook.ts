import { createHmac, timingSafeEqual } from 'node:crypto';
import { currentJob, NonRetryableError, type Reseolio } from 'reseolio';
import type { ShopDeps } from '../deps.ts';

export type OrderEventType = 'order.fulfilled' | 'order.cancelled';

export const SIGNATURE_HEADER = 'x-shop-signature';

/** `sha256=<hex HMAC of the raw body>`, as GitHub and Stripe style webhooks do. */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function verifyWebhook(secret: string, body: string, signature: unknown): boolean {
  if (typeof signature !== 'string') return false;
  const expected = Buffer.from(signWebhook(secret, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Retry-heavy webhook delivery (the guide's "simple durable"): one signed POST per attempt,
 * exponential backoff between attempts. Delivery is at least once; the event id lets the
 * receiver drop repeats.
 */
export function registerOrderWebhook(reseolio: Reseolio, { repo, webhook }: ShopDeps) {
  const deliverOrderWebhook = reseolio.durable(
    reseolio.namespace('webhooks', 'order', 'deliver'),
    async (orderId: string, type: OrderEventType) => {
      const order = await repo.getOrder(orderId);
      const body = JSON.stringify({
        id: `${orderId}:${type}`,
        type,
        orderId,
        amountCents: order?.amountCents ?? null,
        reason: type === 'order.cancelled' ? (order?.cancelReason ?? null) : null,
        attempt: currentJob()?.attempt ?? 1,
      });
      const signals = [AbortSignal.timeout(3_000)];
      const jobSignal = currentJob()?.signal;
      if (jobSignal) signals.push(jobSignal);
      const response = await fetch(webhook.url(), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(webhook.secret, body),
        },
        body,
        signal: AbortSignal.any(signals),
      });
      await response.body?.cancel();
      // A 4xx other than 408/429 means the receiver rejects this request as such (bad
      // signature, unknown route): retrying the same bytes cannot succeed.
      if (
        response.status >= 400 &&
        response.status < 500 &&
        ![408, 429].includes(response.status)
      ) {
        throw new NonRetryableError(`receiver rejected the webhook with ${response.status}`, {
          code: 'webhook_rejected',
        });
      }
      if (!response.ok) throw new Error(`receiver answered ${response.status}`);
      return { status: response.status };
    },
    {
      maxAttempts: 8,
      backoff: 'exponential',
      initialDelayMs: 500,
      maxDelayMs: 8_000,
      timeoutMs: 5_000,
    },
  );
  return { deliverOrderWebhook };
}
