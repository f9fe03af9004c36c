import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import reseolio, { IntegrationConfigError, reseolioPlugin } from '../src/index.ts';
import { makeApp } from './helpers.ts';

describe('@reseolio/fastify dashboard option', () => {
  it('refuses bad dashboard options at registration with IntegrationConfigError', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      // Without the job routes there is no authorize to share.
      [{ dashboard: true }, /give dashboard\.authorize .* or set public: true/],
      [{ dashboard: 'dashboard' }, /dashboard\.prefix must be a path starting with "\/"/],
      [{ dashboard: '/' }, /other than "\/" itself/],
      [{ dashboard: '/ops/' }, /dashboard\.prefix must be/],
      [{ dashboard: 42 }, /dashboard must be true, a prefix such as '\/dashboard'/],
      [{ dashboard: { public: true, readonly: true } }, /Unknown dashboard option "readonly"/],
      [
        { dashboard: { public: true, readOnly: 'yes' } },
        /dashboard\.readOnly must be true or false/,
      ],
      [{ dashboard: { public: true, title: '' } }, /dashboard\.title must be a non-empty string/],
      [
        { dashboard: { public: true, stuckAfterMs: 5 } },
        /dashboard\.stuckAfterMs must be an integer/,
      ],
      [{ dashboard: { public: false } }, /dashboard\.public only accepts true/],
      [
        { dashboard: { public: true, authorize: () => true } },
        /either dashboard\.authorize or public/,
      ],
    ];
    for (const [options, message] of cases) {
      const app = makeApp();
      app.register(reseolioPlugin as never, { storage: 'memory:', ...options });
      const error = await Promise.resolve(app.ready()).catch((e: unknown) => e);
      expect(error, String(message)).toBeInstanceOf(IntegrationConfigError);
      expect((error as Error).message).toMatch(message);
      expect(error).toMatchObject({ code: 'RESEOLIO_INVALID_OPTION' });
    }
  });

  it("passes the Fastify request to the dashboard's own authorize, which overrides public job routes", async () => {
    const app = makeApp();
    const seen: FastifyRequest[] = [];
    await app.register(reseolio, {
      storage: 'memory:',
      routes: { public: true },
      dashboard: {
        prefix: '/ops',
        authorize: (request) => {
          seen.push(request);
          return request.headers['x-operator'] === 'yes';
        },
      },
    });
    expect((await app.inject({ url: '/ops/' })).statusCode).toBe(403);
    expect((await app.inject({ url: '/jobs' })).statusCode).toBe(200);
    const page = await app.inject({ url: '/ops/', headers: { 'x-operator': 'yes' } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(seen.length).toBe(2);
    // Fastify's request, not Node's: it has the routing Fastify did.
    expect(seen[0]!.routeOptions.url).toBe('/ops/*');
    expect(seen[0]!.raw).toBeDefined();
  });

  it('serves under the prefix of the context the plugin is registered in, and under ignoreTrailingSlash', async () => {
    const app = makeApp({ routerOptions: { ignoreTrailingSlash: true } });
    await app.register(
      async (admin) => {
        await admin.register(reseolio, { storage: 'memory:', dashboard: { public: true } });
      },
      { prefix: '/admin' },
    );
    const bare = await app.inject({ url: '/admin/dashboard?x=1' });
    expect(bare.statusCode).toBe(302);
    expect(bare.headers.location).toBe('dashboard/?x=1');
    // With ignoreTrailingSlash the bare route also answers `prefix/`: served, not a loop.
    const page = await app.inject({ url: '/admin/dashboard/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const overview = await app.inject({ url: '/admin/dashboard/api/overview' });
    expect(overview.statusCode).toBe(200);
    expect(overview.json()).toHaveProperty('totals');
    expect((await app.inject({ url: '/admin/dashboard/nothing' })).statusCode).toBe(404);
  });
});
