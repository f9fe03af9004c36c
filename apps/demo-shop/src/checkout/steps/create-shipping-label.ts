import { currentJob, type Reseolio } from 'reseolio';
import type { ShopDeps } from '../../deps.ts';
import { STEP_POLICY } from '../policies.ts';
import { loadOrder } from './load-order.ts';

/**
 * Step 3 of the saga. It has no compensation of its own: it is the last step that can fail,
 * and when it dies no label exists. The carrier keeps one label per order, so a retry after a
 * crash gets the existing label instead of a second one.
 */
export function registerShippingStep(reseolio: Reseolio, { repo, carrier }: ShopDeps) {
  const createShippingLabel = reseolio.durable(
    reseolio.namespace('checkout', 'shipping', 'label'),
    async (orderId: string) => {
      const order = await loadOrder(repo, orderId);
      if (order.labelUrl) return { url: order.labelUrl };
      const shipment = await carrier.createLabel(
        { orderId, address: order.address },
        currentJob()?.signal,
      );
      await repo.updateOrder(orderId, { labelUrl: shipment.labelUrl });
      return { url: shipment.labelUrl, trackingNumber: shipment.trackingNumber };
    },
    STEP_POLICY,
  );
  return { createShippingLabel };
}
