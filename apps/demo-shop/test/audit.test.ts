import type { JobDetails } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { checkLedger } from '../src/audit.ts';
import type { Order, ShopSnapshot } from '../src/db/repository.ts';
import { newOrder } from './fixtures.ts';

// The crash drill is only as good as this check: each case breaks one promise on purpose.

const idle = { pending: 0, running: 0, waiting: 0, success: 0, dead: 0, cancelled: 0 };

function order(id: string, patch: Partial<Order>): Order {
  return {
    ...newOrder(id),
    status: 'fulfilled',
    cancelReason: null,
    paymentId: null,
    labelUrl: null,
    sagaJobId: null,
    deliveryJobId: null,
    deliveredAt: null,
    deliveryConfirmedBy: null,
    createdAt: 0,
    updatedAt: 0,
    ...patch,
  };
}

/** One fulfilled order with everything in place: the audit finds nothing. */
function healthy(): ShopSnapshot {
  return {
    products: [
      { id: 'mug', name: 'Mug', priceCents: 1200, stock: 9, initialStock: 10, color: '#000' },
    ],
    orders: [order('o1', {})],
    reservations: [
      { orderId: 'o1', productId: 'mug', quantity: 1, reservedAt: 0, releasedAt: null },
    ],
    payments: [
      {
        id: 'p1',
        idempotencyKey: 'order-o1-charge',
        orderId: 'o1',
        amountCents: 1200,
        status: 'succeeded',
        replays: 2,
        createdAt: 0,
      },
    ],
    refunds: [],
    shipments: [
      { id: 's1', orderId: 'o1', carrier: 'c', trackingNumber: 't', labelUrl: 'u', createdAt: 0 },
    ],
    emails: [
      {
        id: 'e1',
        idempotencyKey: 'k1',
        to: 'a',
        template: 'order-confirmation',
        subject: '',
        body: '',
        orderId: 'o1',
        userId: null,
        replays: 1,
        createdAt: 0,
      },
    ],
    webhooks: [
      {
        eventId: 'o1:order.fulfilled',
        orderId: 'o1',
        type: 'order.fulfilled',
        payload: '{}',
        deliveries: 2,
        receivedAt: 0,
      },
    ],
  };
}

describe('checkLedger', () => {
  it('passes a consistent ledger and counts the replays it absorbed', () => {
    const report = checkLedger(healthy(), idle, []);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({
      settled: true,
      payments: { charged: 1, replaysAbsorbed: 2 },
      emails: { sent: 1, replaysAbsorbed: 1 },
      webhooks: { events: 1, redeliveriesDropped: 1 },
    });
  });

  it('reports a second charge for one order', () => {
    const data = healthy();
    data.payments.push({ ...data.payments[0]!, id: 'p2', idempotencyKey: 'order-o1-charge-retry' });
    expect(checkLedger(data, idle, []).violations).toContain('order o1 charged 2 times');
  });

  it('reports a second email of one template to one order', () => {
    const data = healthy();
    data.emails.push({ ...data.emails[0]!, id: 'e2', idempotencyKey: 'k2' });
    expect(checkLedger(data, idle, []).violations).toContain(
      'email "order-confirmation to o1" sent 2 times',
    );
  });

  it('reports a cancelled order whose charge was not refunded or whose stock was kept', () => {
    const data = healthy();
    data.orders = [order('o1', { status: 'cancelled', cancelReason: 'shipping: X: down' })];
    data.shipments = [];
    expect(checkLedger(data, idle, []).violations).toEqual(
      expect.arrayContaining([
        'cancelled order o1 was charged and not refunded',
        'cancelled order o1 still holds stock',
        'cancelled order o1 got no cancellation email',
      ]),
    );
  });

  it('reports stock that does not add up', () => {
    const data = healthy();
    data.products[0]!.stock = 10;
    expect(checkLedger(data, idle, []).violations).toContain(
      'stock of mug is 10, expected 10 − 1 reserved',
    );
  });

  it('is not settled while jobs run, and reports a job that gave up outside a cancellation', () => {
    const data = healthy();
    expect(checkLedger(data, { ...idle, running: 1 }, []).settled).toBe(false);
    // A delivery waiting for its customer holds nothing: the shop is settled.
    expect(checkLedger(data, { ...idle, waiting: 1 }, []).settled).toBe(true);
    const dead = {
      name: 'webhooks:order:deliver',
      args: ['o1'],
      error: { name: 'Error', message: '503' },
    };
    expect(checkLedger(data, idle, [dead as unknown as JobDetails]).violations).toContain(
      'job webhooks:order:deliver for o1 gave up: 503',
    );
  });

  it('reports a delivered order without its delivery email, and a cancelled order delivered', () => {
    const data = healthy();
    data.orders = [order('o1', { deliveredAt: 5, deliveryConfirmedBy: 'customer' })];
    expect(checkLedger(data, idle, []).violations).toEqual([
      'delivered order o1 got no delivery email',
    ]);
    data.emails.push({ ...data.emails[0]!, id: 'e2', template: 'order-delivered' });
    expect(checkLedger(data, idle, []).violations).toEqual([]);
    data.orders = [order('o1', { deliveredAt: 5, deliveryConfirmedBy: null })];
    expect(checkLedger(data, idle, []).violations).toContain(
      'order o1: delivery time and confirmation disagree',
    );
    data.orders = [
      order('o1', {
        status: 'cancelled',
        cancelReason: 'x',
        deliveredAt: 5,
        deliveryConfirmedBy: 'auto',
      }),
    ];
    expect(checkLedger(data, idle, []).violations).toContain('cancelled order o1 was delivered');
  });
});
