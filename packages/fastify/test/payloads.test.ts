import { describe, expect, it } from 'vitest';
import reseolio from '../src/index.ts';
import { fast, listen, makeApp, sqliteUrl } from './helpers.ts';

/** What a handler reports about the object it was given. */
function describeObject(value: Record<string, unknown>) {
  return {
    isAdmin: value.isAdmin ?? null,
    ownProto: Object.getOwnPropertyDescriptor(value, '__proto__')?.value ?? null,
    plainPrototype: Object.getPrototypeOf(value) === Object.prototype,
  };
}

// A hostile body: JSON.parse makes `__proto__` an OWN key, which must stay data all the way.
const HOSTILE = '{"__proto__":{"isAdmin":true},"name":"x"}';

async function bootApp(options: { onProtoPoisoning?: 'ignore' | 'error' } = {}) {
  const app = makeApp(options);
  await app.register(reseolio, { storage: sqliteUrl(), ...fast });
  const seen: unknown[] = [];
  const update = app.reseolio.durable('users:update', async (body: Record<string, unknown>) => {
    seen.push(describeObject(body));
    return describeObject(body);
  });
  app.post('/users', async (request) => {
    const handle = await update(request.body as Record<string, unknown>);
    return handle.result(5000);
  });
  return { app, base: await listen(app), seen };
}

describe('@reseolio/fastify: a parsed JSON body passed to a durable function', () => {
  it('reaches the handler with its own __proto__ key as data, never as a prototype (SQLite file)', async () => {
    // Fastify's default parser answers such a body with 400 (below); an app that opts out of
    // that check hands it on as JSON.parse made it.
    const { app, base, seen } = await bootApp({ onProtoPoisoning: 'ignore' });
    const response = await fetch(`${base}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: HOSTILE,
    });
    const expected = { isAdmin: null, ownProto: { isAdmin: true }, plainPrototype: true };
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(expected);
    expect(seen).toEqual([expected]);
    const [job] = await app.reseolio.listJobs();
    expect(describeObject(job!.args[0] as Record<string, unknown>)).toEqual(expected);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it("is refused by Fastify's default parser before any job is stored", async () => {
    const { app, base, seen } = await bootApp();
    const response = await fetch(`${base}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: HOSTILE,
    });
    expect(response.status).toBe(400);
    expect(seen).toEqual([]);
    expect(await app.reseolio.listJobs()).toEqual([]);
  });
});
