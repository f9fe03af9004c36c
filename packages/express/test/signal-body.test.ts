import { waitForSignal } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { reseolioRouter } from '../src/index.ts';
import { call, EXPRESS_VERSIONS, makeEngine, serve } from './helpers.ts';

// The signal route's answers are the conformance suite's, with the router reading the body
// itself. These are the two ways an app may already parse bodies in front of it.

describe.each(EXPRESS_VERSIONS)('the signal route on Express $major', ({ express }) => {
  function app(engine: ReturnType<typeof makeEngine>, parse: 'json' | 'text') {
    const instance = express();
    if (parse === 'json') instance.use(express.json());
    else instance.use(express.text({ type: 'text/*' }));
    instance.use('/jobs', reseolioRouter({ instance: engine, public: true }));
    return instance;
  }

  it('uses the body express.json() parsed in front of it', async () => {
    const engine = makeEngine({ suspendAfterMs: 50 });
    const flow = engine.durable('flow', async () => waitForSignal('go'));
    await engine.start();
    const handle = await flow();
    const { base } = await serve(app(engine, 'json'));
    const path = `/jobs/${handle.jobId}/signals/go`;
    expect(await call(base, 'POST', path, {}, { payload: { n: 1 }, idempotencyKey: 'k' })).toEqual({
      status: 202,
      body: { duplicate: false },
    });
    expect(await handle.result(10_000)).toEqual({ n: 1 });
    expect((await call(base, 'POST', path, {}, { bad: 1 })).status).toBe(400);
  });

  it('reads a JSON body itself when the app parses other types only; refuses a non-JSON one', async () => {
    const engine = makeEngine();
    const flow = engine.durable('flow', async () => waitForSignal('go'));
    await engine.start();
    const handle = await flow.enqueue([], { delayMs: 60_000 });
    const { base } = await serve(app(engine, 'text'));
    const path = `/jobs/${handle.jobId}/signals/go`;
    expect(await call(base, 'POST', path, {}, { payload: 1 })).toEqual({
      status: 202,
      body: { duplicate: false },
    });
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payload=1',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'RESEOLIO_INVALID_INPUT' } });
  });
});
