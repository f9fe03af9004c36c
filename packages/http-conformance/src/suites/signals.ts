import { waitFor } from '@reseolio/test-utils';
import { expect, it } from 'vitest';
import { ADMIN, adminOnly, UNKNOWN_ID } from '../fixtures.ts';
import type { SuiteContext } from '../run-http-conformance.ts';

const INVALID = { status: 400, body: { error: { code: 'RESEOLIO_INVALID_INPUT' } } };

export function signalsSuite({ serve }: SuiteContext): void {
  it('POST /:id/signals/:topic answers 202 { duplicate } and the waiting job resumes with the payload', async () => {
    const { send, call, waiter } = await serve(adminOnly);
    const handle = await waiter('order-1');
    await waitFor(async () => (await handle.status()) === 'waiting');

    const waiting = await call('GET', '/jobs?status=waiting', ADMIN);
    expect(waiting.status).toBe(200);
    expect(waiting.body.jobs).toEqual([
      expect.objectContaining({
        id: handle.jobId,
        status: 'waiting',
        waitingFor: { kind: 'signal', topic: 'payment-confirmed', until: null },
      }),
    ]);
    expect((await call('GET', `/jobs/${handle.jobId}`, ADMIN)).body.job.waitingFor).toEqual({
      kind: 'signal',
      topic: 'payment-confirmed',
      until: null,
    });

    const path = `/jobs/${handle.jobId}/signals/payment-confirmed`;
    const body = { payload: { amount: 4200, currency: 'EUR' }, idempotencyKey: 'evt_1' };
    expect(await send('POST', path, body, ADMIN)).toEqual({
      status: 202,
      body: { duplicate: false },
    });
    expect(await handle.result(10_000)).toEqual({
      orderId: 'order-1',
      payment: { amount: 4200, currency: 'EUR' },
    });
    expect((await call('GET', `/jobs/${handle.jobId}`, ADMIN)).body.job).toMatchObject({
      status: 'success',
      waitingFor: null,
    });

    // The job finished: it will never wait again.
    expect(await send('POST', path, { payload: 1 }, ADMIN)).toMatchObject({
      status: 409,
      body: { error: { code: 'RESEOLIO_INVALID_STATE' } },
    });
  });

  it('a key used again (in the body or the Idempotency-Key header) is a duplicate; no body is a signal without payload', async () => {
    const { call, send, waiter } = await serve({ public: true });
    // Not started yet: signals are kept until it waits.
    const handle = await waiter.enqueue(['order-2'], { delayMs: 60_000 });
    const path = `/jobs/${handle.jobId}/signals/payment-confirmed`;
    expect(await send('POST', path, { payload: 1, idempotencyKey: 'evt_1' })).toEqual({
      status: 202,
      body: { duplicate: false },
    });
    expect(await send('POST', path, { payload: 2, idempotencyKey: 'evt_1' })).toEqual({
      status: 202,
      body: { duplicate: true },
    });
    expect(await send('POST', path, { payload: 3 }, { 'idempotency-key': 'evt_1' })).toEqual({
      status: 202,
      body: { duplicate: true },
    });
    expect(await call('POST', path, { 'idempotency-key': 'evt_2' })).toEqual({
      status: 202,
      body: { duplicate: false },
    });
    expect(await call('POST', path)).toEqual({ status: 202, body: { duplicate: false } });
    expect(await handle.status()).toBe('pending');
  });

  it('refuses unauthorised callers before reading the body; 404 unknown job; 400 bad topic, body or key; 413 large payload', async () => {
    const { send, waiter } = await serve(adminOnly);
    const handle = await waiter.enqueue(['order-3'], { delayMs: 60_000 });
    const path = `/jobs/${handle.jobId}/signals/payment-confirmed`;

    // A refused caller learns nothing, not even that its body is refused. (A body that is not
    // JSON at all may be answered by the framework's parser before any route runs.)
    expect(await send('POST', path, [1])).toMatchObject({
      status: 401,
      body: { error: { code: 'RESEOLIO_UNAUTHENTICATED' } },
    });
    expect(await send('POST', path, { payload: 1 }, { authorization: 'Bearer guest' })).toEqual({
      status: 403,
      body: {
        error: { code: 'RESEOLIO_FORBIDDEN', message: 'You are not allowed to access jobs.' },
      },
    });

    expect(
      await send('POST', `/jobs/${UNKNOWN_ID}/signals/payment-confirmed`, { payload: 1 }, ADMIN),
    ).toMatchObject({ status: 404, body: { error: { code: 'RESEOLIO_JOB_NOT_FOUND' } } });

    // Not an object: 400 (from the framework's parser on some, in strict JSON mode).
    for (const body of [7, '"text"']) {
      expect((await send('POST', path, body, ADMIN)).status, JSON.stringify(body)).toBe(400);
    }
    for (const body of [
      [1],
      { amount: 4200 }, // a payload sent bare
      { payload: 1, idempotencyKey: 5 },
      { payload: 1, idempotencyKey: '' },
      { payload: 1, idempotencyKey: 'k'.repeat(1000) },
    ]) {
      expect(await send('POST', path, body, ADMIN), JSON.stringify(body)).toMatchObject(INVALID);
    }
    expect(
      await send('POST', path, { idempotencyKey: 'a' }, { ...ADMIN, 'idempotency-key': 'b' }),
    ).toMatchObject(INVALID);
    expect(
      // NUL cannot be stored. (A very long topic may be refused by the router first: 414.)
      await send('POST', `/jobs/${handle.jobId}/signals/paid%00`, {}, ADMIN),
    ).toMatchObject(INVALID);
    // Malformed JSON: some frameworks' parsers answer before any route runs; all answer 400.
    expect((await send('POST', path, '{not json', ADMIN)).status).toBe(400);
    // Over the engine's maxPayloadBytes (1 MiB), or the framework's body limit: 413 either way.
    const large = await send('POST', path, { payload: 'x'.repeat(1_100_000) }, ADMIN);
    expect(large.status).toBe(413);

    expect(await handle.status()).toBe('pending');
  });
}
