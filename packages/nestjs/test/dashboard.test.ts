import { Controller, Get } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { IntegrationConfigError, ReseolioModule } from '../src/index.ts';
import { type HttpAdapterName, track } from './helpers.ts';

@Controller('dashboard-neighbour')
class NeighbourController {
  @Get()
  hello() {
    return 'neighbour';
  }
}

describe('ReseolioModule dashboard option', () => {
  it('refuses bad dashboard options when the module is declared, with IntegrationConfigError', () => {
    const cases: [unknown, RegExp][] = [
      [true, /give dashboard\.authorize .* or set public: true/],
      ['dash', /dashboard\.prefix must be a path starting with "\/"/],
      [{ public: true, readOnly: 'no' }, /dashboard\.readOnly must be true or false/],
      [{ public: true, path: '/d' }, /Unknown dashboard option "path"/],
    ];
    for (const [dashboard, message] of cases) {
      const declare = () => ReseolioModule.forRoot({ storage: 'memory:', dashboard } as never);
      expect(declare, String(message)).toThrow(IntegrationConfigError);
      expect(declare).toThrow(message);
    }
  });

  it('serves the dashboard given beside the forRootAsync factory', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ReseolioModule.forRootAsync({
          useFactory: async () => ({ storage: 'memory:' }),
          dashboard: { public: true, readOnly: true },
        }),
      ],
    }).compile();
    const app = track(moduleRef.createNestApplication());
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    expect((await fetch(`${base}/dashboard/`)).status).toBe(200);
    const action = await fetch(`${base}/dashboard/api/jobs/bulk/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"confirm":true}',
    });
    expect(action.status).toBe(403);
  });

  for (const adapter of ['express', 'fastify'] as HttpAdapterName[]) {
    it(`serves under the app's global prefix and gives authorize the platform's request (${adapter})`, async () => {
      const seen: { headers: Record<string, unknown>; url?: string }[] = [];
      const moduleRef = await Test.createTestingModule({
        imports: [
          ReseolioModule.forRoot({
            storage: 'memory:',
            routes: { public: true },
            dashboard: {
              prefix: '/ops',
              authorize: (request) => {
                seen.push(request);
                return request.headers['x-operator'] === 'yes';
              },
            },
          }),
        ],
        controllers: [NeighbourController],
      }).compile();
      const app = track(
        adapter === 'fastify'
          ? moduleRef.createNestApplication(new FastifyAdapter())
          : moduleRef.createNestApplication(),
      );
      app.setGlobalPrefix('api');
      await app.listen(0, '127.0.0.1');
      const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      const ops = { 'x-operator': 'yes' };

      const bare = await fetch(`${base}/api/ops?job=1`, { redirect: 'manual' });
      expect(bare.status).toBe(302);
      expect(bare.headers.get('location')).toBe('ops/?job=1');
      expect((await fetch(`${base}/api/ops/`)).status).toBe(403);
      const page = await fetch(`${base}/api/ops/`, { headers: ops });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const overview = await fetch(`${base}/api/ops/api/overview`, { headers: ops });
      expect(overview.status).toBe(200);
      expect(await overview.json()).toHaveProperty('totals');
      expect((await fetch(`${base}/api/ops/api/nothing`, { headers: ops })).status).toBe(404);
      expect(await (await fetch(`${base}/api/dashboard-neighbour`)).text()).toBe('neighbour');
      // The platform's request (Express's has `get`, Fastify's `raw`), as `@Req()` gives it.
      const request = seen[0] as { get?: unknown; raw?: unknown };
      expect(adapter === 'fastify' ? request.raw : request.get).toBeDefined();
    });
  }
});
