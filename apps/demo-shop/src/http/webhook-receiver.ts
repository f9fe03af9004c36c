import type { FastifyInstance } from 'fastify';
import type { ShopRepository } from '../db/repository.ts';
import { SIGNATURE_HEADER, verifyWebhook } from '../durable/order-webhook.ts';
import { chance, type Faults } from '../services/faults.ts';

/**
 * The local receiver of the shop's order webhooks, standing in for a partner's endpoint. It
 * verifies the HMAC over the raw body, fails on purpose at the configured rate (503, so the
 * sender's exponential retries show), and keeps each event id once.
 */
export async function webhookReceiver(
  app: FastifyInstance,
  options: { repo: ShopRepository; faults: Faults; secret: string },
): Promise<void> {
  // The signature covers the exact bytes sent, so this (encapsulated) context keeps the body
  // as a string instead of letting Fastify re-serialise parsed JSON.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );

  app.post('/webhooks/orders', async (request, reply) => {
    const raw = typeof request.body === 'string' ? request.body : '';
    if (chance(options.faults.webhookFailureRate)) {
      return reply.code(503).send({ error: 'receiver is having a bad day (fault injection)' });
    }
    if (!verifyWebhook(options.secret, raw, request.headers[SIGNATURE_HEADER])) {
      return reply.code(401).send({ error: 'bad signature' });
    }
    let event: { id?: unknown; type?: unknown; orderId?: unknown };
    try {
      event = JSON.parse(raw);
    } catch {
      return reply.code(400).send({ error: 'body is not JSON' });
    }
    if (
      typeof event.id !== 'string' ||
      typeof event.type !== 'string' ||
      typeof event.orderId !== 'string'
    ) {
      return reply.code(400).send({ error: 'event needs id, type and orderId' });
    }
    const receipt = await options.repo.recordWebhook({
      eventId: event.id,
      orderId: event.orderId,
      type: event.type,
      payload: raw,
      receivedAt: Date.now(),
    });
    return { received: true, duplicate: receipt.deliveries > 1 };
  });
}
