import type { JobDetails, JobStatus, Reseolio } from 'reseolio';
import type { ShopRepository, ShopSnapshot } from './db/repository.ts';

/** What the ledger says, and every broken promise found in it. */
export interface AuditReport {
  orders: { total: number; fulfilled: number; cancelled: number; inFlight: number };
  payments: { charged: number; declined: number; replaysAbsorbed: number };
  refunds: { count: number; replaysAbsorbed: number };
  emails: { sent: number; replaysAbsorbed: number };
  webhooks: { events: number; redeliveriesDropped: number };
  jobs: Record<JobStatus, number>;
  /** Cancellation reasons and how many orders each. */
  cancelReasons: Record<string, number>;
  /**
   * No order in flight and no job pending or running: the final checks below apply. A
   * `waiting` job (a delivery awaiting its customer) holds nothing and does not unsettle.
   */
  settled: boolean;
  /** Broken invariants. Empty means: no double charge, no double email, nothing lost. */
  violations: string[];
}

/** Steps whose death is a legitimate outcome: the order is cancelled and compensated. */
const STEPS_THAT_MAY_DIE = new Set([
  'checkout:payment:charge',
  'checkout:inventory:reserve',
  'checkout:shipping:label',
]);

/**
 * Checks the shop's tables against what the saga promises. Invariants that hold at every
 * moment (no double charge, no double email, stock adds up) are always checked; those about
 * finished work (every order settled and compensated, every email and webhook out, no job
 * given up) once the shop is settled.
 */
export async function auditShop(repo: ShopRepository, reseolio: Reseolio): Promise<AuditReport> {
  const jobs = { pending: 0, running: 0, waiting: 0, success: 0, dead: 0, cancelled: 0 };
  for (const status of Object.keys(jobs) as JobStatus[]) {
    jobs[status] = (await allJobs(reseolio, status)).length;
  }
  const dead = jobs.dead > 0 ? await allJobs(reseolio, 'dead') : [];
  return checkLedger(await repo.snapshot(), jobs, dead);
}

async function allJobs(reseolio: Reseolio, status: JobStatus): Promise<JobDetails[]> {
  const found: JobDetails[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await reseolio.listJobs({ status, limit: 1000, offset });
    found.push(...page);
    if (page.length < 1000) return found;
  }
}

/** The pure part of the audit, over one consistent snapshot. */
export function checkLedger(
  data: ShopSnapshot,
  jobs: Record<JobStatus, number>,
  deadJobs: JobDetails[],
): AuditReport {
  const violations: string[] = [];
  const byOrder = <T extends { orderId: string | null }>(rows: T[]) => {
    const map = new Map<string, T[]>();
    for (const row of rows) {
      if (row.orderId === null) continue;
      map.set(row.orderId, [...(map.get(row.orderId) ?? []), row]);
    }
    return map;
  };
  const charges = byOrder(data.payments.filter((p) => p.status === 'succeeded'));
  const refunds = byOrder(data.refunds);
  const shipments = byOrder(data.shipments);
  const reservations = new Map(data.reservations.map((r) => [r.orderId, r]));
  const webhooks = byOrder(data.webhooks);

  // Always: nothing happened twice, and stock adds up.
  for (const [orderId, list] of charges) {
    if (list.length > 1) violations.push(`order ${orderId} charged ${list.length} times`);
  }
  for (const [orderId, list] of refunds) {
    if (list.length > 1) violations.push(`order ${orderId} refunded ${list.length} times`);
  }
  const emailCounts = new Map<string, number>();
  for (const email of data.emails) {
    // A report is one email per run (its subject names the tick); the others one per order or user.
    const key = `${email.template} to ${email.orderId ?? email.userId ?? `${email.to}: ${email.subject}`}`;
    emailCounts.set(key, (emailCounts.get(key) ?? 0) + 1);
  }
  for (const [key, count] of emailCounts) {
    if (count > 1) violations.push(`email "${key}" sent ${count} times`);
  }
  for (const product of data.products) {
    const held = data.reservations
      .filter((r) => r.productId === product.id && r.releasedAt === null)
      .reduce((sum, r) => sum + r.quantity, 0);
    if (product.stock !== product.initialStock - held) {
      violations.push(
        `stock of ${product.id} is ${product.stock}, expected ${product.initialStock} − ${held} reserved`,
      );
    }
  }

  const inFlight = data.orders.filter((o) => o.status !== 'fulfilled' && o.status !== 'cancelled');
  const settled = inFlight.length === 0 && jobs.pending === 0 && jobs.running === 0;
  const cancelReasons: Record<string, number> = {};
  const sentEmail = (template: string, orderId: string) =>
    emailCounts.get(`${template} to ${orderId}`) === 1;

  for (const order of data.orders) {
    const charge = charges.get(order.id)?.[0];
    const refund = refunds.get(order.id)?.[0];
    const reservation = reservations.get(order.id);
    const received = webhooks.get(order.id) ?? [];
    if (order.status === 'fulfilled') {
      if (!charge || charge.amountCents !== order.amountCents) {
        violations.push(`fulfilled order ${order.id} has no charge of ${order.amountCents}`);
      }
      if (refund) violations.push(`fulfilled order ${order.id} was refunded`);
      if (!reservation || reservation.releasedAt !== null) {
        violations.push(`fulfilled order ${order.id} holds no stock`);
      }
      if (!shipments.has(order.id)) violations.push(`fulfilled order ${order.id} has no shipment`);
      if (settled && !sentEmail('order-confirmation', order.id)) {
        violations.push(`fulfilled order ${order.id} got no confirmation email`);
      }
      if (settled && !received.some((w) => w.type === 'order.fulfilled')) {
        violations.push(`fulfilled order ${order.id}: webhook never received`);
      }
      if ((order.deliveredAt === null) !== (order.deliveryConfirmedBy === null)) {
        violations.push(`order ${order.id}: delivery time and confirmation disagree`);
      }
      if (settled && order.deliveredAt !== null && !sentEmail('order-delivered', order.id)) {
        violations.push(`delivered order ${order.id} got no delivery email`);
      }
    } else if (order.status === 'cancelled') {
      const reason = order.cancelReason ?? '(no reason)';
      const kind = reason.split(': ').slice(0, 2).join(': '); // "<step>: <error code>"
      cancelReasons[kind] = (cancelReasons[kind] ?? 0) + 1;
      if (!order.cancelReason) violations.push(`cancelled order ${order.id} has no reason`);
      if (charge && refund?.amountCents !== charge.amountCents) {
        violations.push(`cancelled order ${order.id} was charged and not refunded`);
      }
      if (!charge && refund) violations.push(`cancelled order ${order.id} refunded without charge`);
      if (reservation && reservation.releasedAt === null) {
        violations.push(`cancelled order ${order.id} still holds stock`);
      }
      if (shipments.has(order.id)) violations.push(`cancelled order ${order.id} was shipped`);
      if (order.deliveredAt !== null) violations.push(`cancelled order ${order.id} was delivered`);
      if (settled && !sentEmail('order-cancelled', order.id)) {
        violations.push(`cancelled order ${order.id} got no cancellation email`);
      }
      if (settled && !received.some((w) => w.type === 'order.cancelled')) {
        violations.push(`cancelled order ${order.id}: webhook never received`);
      }
    }
  }

  const cancelled = new Set(data.orders.filter((o) => o.status === 'cancelled').map((o) => o.id));
  for (const job of deadJobs) {
    const orderId = String(job.args[0]);
    if (!(STEPS_THAT_MAY_DIE.has(job.name) && cancelled.has(orderId))) {
      violations.push(`job ${job.name} for ${orderId} gave up: ${job.error?.message ?? '?'}`);
    }
  }

  return {
    orders: {
      total: data.orders.length,
      fulfilled: data.orders.filter((o) => o.status === 'fulfilled').length,
      cancelled: cancelled.size,
      inFlight: inFlight.length,
    },
    payments: {
      charged: data.payments.filter((p) => p.status === 'succeeded').length,
      declined: data.payments.filter((p) => p.status === 'declined').length,
      replaysAbsorbed: sum(data.payments.map((p) => p.replays)),
    },
    refunds: {
      count: data.refunds.length,
      replaysAbsorbed: sum(data.refunds.map((r) => r.replays)),
    },
    emails: { sent: data.emails.length, replaysAbsorbed: sum(data.emails.map((e) => e.replays)) },
    webhooks: {
      events: data.webhooks.length,
      redeliveriesDropped: sum(data.webhooks.map((w) => w.deliveries - 1)),
    },
    jobs,
    cancelReasons,
    settled,
    violations,
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
