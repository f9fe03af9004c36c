import { currentJob, NonRetryableError, type Reseolio } from 'reseolio';
import type { ShopDeps } from '../deps.ts';
import { latency } from '../services/faults.ts';

/**
 * Pattern 2, await result: the invoice route starts this job and waits for its URL. It runs on
 * any worker, survives a restart of the process that asked, and a second request for the same
 * order (same idempotency key) gets the same job and so the same invoice.
 */
export function registerInvoice(reseolio: Reseolio, { repo, faults }: ShopDeps) {
  const generateInvoice = reseolio.durable(
    reseolio.namespace('billing', 'invoice', 'generate'),
    async (orderId: string) => {
      const order = await repo.getOrder(orderId);
      if (!order) throw new NonRetryableError(`order ${orderId} does not exist`);
      if (order.status !== 'fulfilled') {
        throw new NonRetryableError(`order ${orderId} is ${order.status}, not fulfilled`, {
          code: 'not_fulfilled',
        });
      }
      const product = await repo.getProduct(order.productId);
      // "Rendering a PDF" takes a moment.
      await latency(faults, currentJob()?.signal, 2);
      const number = `INV-${orderId.slice(4).toUpperCase()}`;
      const html =
        `<!doctype html><meta charset="utf-8"><title>${number}</title>` +
        `<h1>Invoice ${number}</h1><p>Order ${orderId} for ${escapeHtml(order.email)}</p>` +
        `<p>${order.quantity} × ${escapeHtml(product?.name ?? order.productId)}: ` +
        `<strong>${(order.amountCents / 100).toFixed(2)} €</strong></p>` +
        `<p>Payment ${order.paymentId ?? ''}, shipping label ${escapeHtml(order.labelUrl ?? '')}</p>`;
      await repo.saveInvoice({ orderId, number, html, createdAt: Date.now() });
      return { url: `/invoices/${orderId}`, number, amountCents: order.amountCents };
    },
    // Pattern 7, priority: a customer is waiting for this on the page, so it goes before
    // queued background work (emails, webhooks, images: priority 0).
    { timeoutMs: 60_000, priority: 10 },
  );
  return { generateInvoice };
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
