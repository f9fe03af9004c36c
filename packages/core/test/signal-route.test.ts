import { describe, expect, it } from 'vitest';
import {
  createJobRouteHandler,
  matchJobRoute,
  parseListQuery,
  parseSignalBody,
  resolveJobApiOptions,
} from '../src/http/index.ts';
import { toJobJSON, waitForSignal } from '../src/index.ts';
import { makeEngine, waitFor } from './helpers.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function routes(engine: ReturnType<typeof makeEngine>) {
  const handle = createJobRouteHandler<{ admin: boolean }>(
    engine,
    resolveJobApiOptions({ authorize: (request: { admin: boolean }) => request.admin }, 'routes'),
  );
  return (
    id: string | null,
    topic: string | null,
    body?: unknown,
    headers: Record<string, unknown> = {},
    admin = true,
  ) => handle('signal', { request: { admin }, id, topic, query: {}, body, headers, log: silent });
}

function waitingForSignal(engine: ReturnType<typeof makeEngine>) {
  return engine.durable('route:waiter', async () => {
    const payload = await waitForSignal<unknown>('payment-confirmed');
    return { payload };
  });
}

describe('the signal route', () => {
  it('is in the route table, with its id and topic decoded', () => {
    expect(matchJobRoute('POST', '/j1/signals/payment-confirmed')).toEqual({
      action: 'signal',
      id: 'j1',
      topic: 'payment-confirmed',
    });
    expect(matchJobRoute('POST', '/j%2F1/signals/a%20b')).toMatchObject({
      id: 'j/1',
      topic: 'a b',
    });
    expect(matchJobRoute('POST', '/j1/signals/%E0%A4%A')).toMatchObject({ topic: null });
    for (const [method, path] of [
      ['GET', '/j1/signals/t'],
      ['POST', '/j1/signals'],
      ['POST', '/j1/signals/'],
      ['POST', '/j1/signals/t/extra'],
    ]) {
      expect(matchJobRoute(method!, path!), `${method} ${path}`).toBeUndefined();
    }
  });

  it('answers 202 { duplicate }, and the waiting job resumes with the payload', async () => {
    const engine = makeEngine({ suspendAfterMs: 50 });
    const waiter = waitingForSignal(engine);
    await engine.start();
    const handle = await waiter();
    await waitFor(async () => (await handle.status()) === 'waiting');
    expect(toJobJSON(await handle.details()).waitingFor).toEqual({
      kind: 'signal',
      topic: 'payment-confirmed',
      until: null,
    });
    const signal = routes(engine);
    expect(
      await signal(handle.jobId, 'payment-confirmed', {
        payload: { amount: 42 },
        idempotencyKey: 'pay-1',
      }),
    ).toEqual({ status: 202, body: { duplicate: false } });
    expect(
      await signal(
        handle.jobId,
        'payment-confirmed',
        { payload: 1 },
        { 'idempotency-key': 'pay-1' },
      ),
    ).toEqual({ status: 202, body: { duplicate: true } });
    expect(await handle.result(10_000)).toEqual({ payload: { amount: 42 } });
    expect(await signal(handle.jobId, 'payment-confirmed', {})).toMatchObject({
      status: 409,
      body: { error: { code: 'RESEOLIO_INVALID_STATE' } },
    });
  });

  it('refuses before reading anything, 404s an unknown job, 400s a bad topic, body or key, 413s a large payload', async () => {
    const engine = makeEngine({ maxPayloadBytes: 100 });
    const waiter = waitingForSignal(engine);
    const handle = await waiter.enqueue([], { delayMs: 60_000 });
    const signal = routes(engine);
    expect(await signal(handle.jobId, 't', 'not json at all', {}, false)).toMatchObject({
      status: 403,
    });
    expect(await signal('nope', 't', {})).toMatchObject({
      status: 404,
      body: { error: { code: 'RESEOLIO_JOB_NOT_FOUND' } },
    });
    const invalid = { status: 400, body: { error: { code: 'RESEOLIO_INVALID_INPUT' } } };
    expect(await signal(handle.jobId, null, {})).toMatchObject(invalid);
    expect(await signal(handle.jobId, 'x'.repeat(201), {})).toMatchObject(invalid);
    for (const body of [
      [1],
      'text',
      7,
      { orderId: 1 },
      { idempotencyKey: 5 },
      { idempotencyKey: '' },
    ]) {
      expect(await signal(handle.jobId, 't', body), JSON.stringify(body)).toMatchObject(invalid);
    }
    expect(
      await signal(handle.jobId, 't', { idempotencyKey: 'a' }, { 'idempotency-key': 'b' }),
    ).toMatchObject(invalid);
    expect(await signal(handle.jobId, 't', {}, { 'idempotency-key': ['a', 'b'] })).toMatchObject(
      invalid,
    );
    expect(await signal(handle.jobId, 't', { payload: 'x'.repeat(200) })).toMatchObject({
      status: 413,
      body: { error: { code: 'RESEOLIO_PAYLOAD_TOO_LARGE' } },
    });
    // None of those changed the job.
    expect(await handle.status()).toBe('pending');
    // No body at all is a signal without payload.
    expect(await signal(handle.jobId, 't')).toEqual({ status: 202, body: { duplicate: false } });
  });

  it('parses the body: payload and key, the key from the header, nothing for an empty body', () => {
    expect(parseSignalBody({ payload: [1], idempotencyKey: 'k' }, {})).toEqual({
      payload: [1],
      idempotencyKey: 'k',
    });
    expect(parseSignalBody({ payload: null }, { 'idempotency-key': 'h' })).toEqual({
      payload: null,
      idempotencyKey: 'h',
    });
    expect(parseSignalBody(undefined, undefined)).toEqual({ payload: undefined });
    expect(parseSignalBody('', {})).toEqual({ payload: undefined });
    expect(parseSignalBody({}, {})).toEqual({ payload: undefined });
  });

  it('GET /?status=waiting is a valid filter', () => {
    expect(parseListQuery({ status: 'waiting' }).status).toBe('waiting');
  });
});
