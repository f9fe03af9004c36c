import { randomBytes } from 'node:crypto';
import type { Email, ShopRepository } from '../db/repository.ts';
import { chance, type Faults, latency, TransientServiceError } from './faults.ts';

export interface OutgoingEmail {
  /** The provider keeps one email per key: a retried send is answered, not sent again. */
  idempotencyKey: string;
  to: string;
  template: string;
  subject: string;
  body: string;
  orderId?: string;
  userId?: string;
}

/**
 * A fake mail provider whose sent mail is the `emails` outbox table. Half of its injected
 * failures happen after the mail went out, so a retry meets the stored key (a "replay").
 */
export class Mailer {
  readonly #repo: ShopRepository;
  readonly #faults: Faults;

  constructor(repo: ShopRepository, faults: Faults) {
    this.#repo = repo;
    this.#faults = faults;
  }

  async send(
    mail: OutgoingEmail,
    signal?: AbortSignal,
  ): Promise<{ email: Email; created: boolean }> {
    await latency(this.#faults, signal);
    if (chance(this.#faults.mailFailureRate / 2)) {
      throw new TransientServiceError('mail', 'SMTP 451, try again later');
    }
    const sent = await this.#repo.recordEmail({
      id: `em_${randomBytes(6).toString('hex')}`,
      idempotencyKey: mail.idempotencyKey,
      to: mail.to,
      template: mail.template,
      subject: mail.subject,
      body: mail.body,
      orderId: mail.orderId ?? null,
      userId: mail.userId ?? null,
      createdAt: Date.now(),
    });
    if (chance(this.#faults.mailFailureRate / 2)) {
      throw new TransientServiceError('mail', 'connection dropped after the message was accepted');
    }
    return sent;
  }
}
