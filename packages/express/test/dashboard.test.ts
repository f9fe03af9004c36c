import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { IntegrationConfigError, reseolioDashboard } from '../src/index.ts';
import { EXPRESS_VERSIONS, makeEngine, serve } from './helpers.ts';

describe('reseolioDashboard options', () => {
  it('refuses bad options synchronously with IntegrationConfigError', () => {
    const instance = makeEngine();
    const cases: [unknown, RegExp][] = [
      [undefined, /reseolioDashboard options must be an object/],
      [{ public: true }, /reseolioDashboard needs the engine: pass \{ instance: reseolio \}/],
      [{ instance: {}, public: true }, /instance/],
      [{ instance }, /give reseolioDashboard options\.authorize .* or set public: true/],
      [{ instance, public: true, prefix: '/d' }, /takes no prefix: mount the dashboard/],
      [{ instance, public: true, readOnly: 1 }, /readOnly must be true or false/],
      [{ instance, public: true, stuckAfterMs: -1 }, /stuckAfterMs must be an integer/],
      [{ instance, public: true, logger: {} }, /logger must have error and warn/],
      [
        { instance, public: true, colour: 'red' },
        /Unknown reseolioDashboard options option "colour"/,
      ],
    ];
    for (const [options, message] of cases) {
      expect(() => reseolioDashboard(options as never), String(message)).toThrow(
        IntegrationConfigError,
      );
      expect(() => reseolioDashboard(options as never)).toThrow(message);
    }
  });
});

for (const { major, express } of EXPRESS_VERSIONS) {
  describe(`reseolioDashboard on Express ${major}`, () => {
    it('gives authorize the Express request, owns its mount point, and leaves other paths to the app', async () => {
      const engine = makeEngine();
      await engine.init();
      const seen: Request[] = [];
      const app = express();
      app.use(express.json());
      app.use(
        '/admin/dashboard',
        reseolioDashboard({
          instance: engine,
          authorize: (request) => {
            seen.push(request);
            return request.get('x-operator') === 'yes';
          },
        }),
      );
      app.get('/admin/health', (_req, res) => {
        res.send('up');
      });
      const { base } = await serve(app);
      const ops = { 'x-operator': 'yes' };

      const bare = await fetch(`${base}/admin/dashboard?tab=jobs`, {
        redirect: 'manual',
        headers: ops,
      });
      expect(bare.status).toBe(302);
      expect(bare.headers.get('location')).toBe('dashboard/?tab=jobs');

      const refused = await fetch(`${base}/admin/dashboard/`);
      expect(refused.status).toBe(403);
      const page = await fetch(`${base}/admin/dashboard/`, { headers: ops });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const overview = await fetch(`${base}/admin/dashboard/api/overview`, { headers: ops });
      expect(overview.status).toBe(200);
      expect(await overview.json()).toHaveProperty('totals');
      // A body `express.json()` parsed in front reaches the dashboard as it is.
      const bulk = (body: unknown) =>
        fetch(`${base}/admin/dashboard/api/jobs/bulk/retry?name=nothing`, {
          method: 'POST',
          headers: { ...ops, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect((await bulk({})).status).toBe(400);
      const confirmed = await bulk({ confirm: true });
      expect(confirmed.status).toBe(200);
      expect(await confirmed.json()).toEqual({ matched: 0, changed: 0 });
      // Everything under the mount point is the dashboard's: its 404, not the app's.
      const unknown = await fetch(`${base}/admin/dashboard/health`, { headers: ops });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ error: { code: 'RESEOLIO_NOT_FOUND' } });
      expect(await (await fetch(`${base}/admin/health`)).text()).toBe('up');

      // Express's request: `get()` and the mount's `baseUrl` are there.
      expect(seen[0]!.baseUrl).toBe('/admin/dashboard');
      expect(typeof seen[0]!.get).toBe('function');
    });
  });
}
