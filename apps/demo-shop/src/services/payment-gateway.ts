import { randomBytes } from 'node:crypto';
import type { Payment, Refund, ShopRepository } from '../db/repository.ts';
import { chance, type Faults, latency, TransientServiceError } from './faults.ts';

/** Stripe's test card that is always declined. */
export const DECLINING_CARD = '4000000000000002';

/**
 * A fake payment gateway whose ledger is the `payments` and `refunds` tables. Like real
 * gateways it keys every request by an idempotency key and answers a repeated key with the
 * stored result. Half of its injected failures happen *after* the money moved (the response
 * is "lost"): exactly the case where a retry without a stable key would charge twice.
 */
export class PaymentGateway {
  readonly #repo: ShopRepository;
  readonly #faults: Faults;

  constructor(repo: ShopRepository, faults: Faults) {
    this.#repo = repo;
    this.#faults = faults;
  }

  async charge(
    request: { idempotencyKey: string; orderId: string; amountCents: number; card: string },
    signal?: AbortSignal,
  ): Promise<Payment> {
    await latency(this.#faults, signal);
    if (chance(this.#faults.gatewayFailureRate / 2)) {
      throw new TransientServiceError('gateway', '503 before charging');
    }
    const declined =
      request.card.replace(/\s/g, '') === DECLINING_CARD || chance(this.#faults.declineRate);
    const payment = await this.#repo.recordPayment({
      id: `pay_${randomBytes(6).toString('hex')}`,
      idempotencyKey: request.idempotencyKey,
      orderId: request.orderId,
      amountCents: request.amountCents,
      status: declined ? 'declined' : 'succeeded',
      createdAt: Date.now(),
    });
    if (chance(this.#faults.gatewayFailureRate / 2)) {
      throw new TransientServiceError('gateway', 'connection reset after the charge went through');
    }
    return payment;
  }

  async refund(
    request: { idempotencyKey: string; payment: Payment },
    signal?: AbortSignal,
  ): Promise<Refund> {
    await latency(this.#faults, signal);
    if (chance(this.#faults.gatewayFailureRate)) {
      throw new TransientServiceError('gateway', '503 before refunding');
    }
    return this.#repo.recordRefund({
      id: `re_${randomBytes(6).toString('hex')}`,
      idempotencyKey: request.idempotencyKey,
      paymentId: request.payment.id,
      orderId: request.payment.orderId,
      amountCents: request.payment.amountCents,
      createdAt: Date.now(),
    });
  }
}
