import { describe, expect, it } from 'vitest';
import { IntegrationConfigError, reseolioRouter, reseolioScheduleRouter } from '../src/index.ts';
import { call, EXPRESS_VERSIONS, makeEngine, serve, sqliteUrl } from './helpers.ts';

// The schedule routes' answers on every framework are the shared conformance suite's; this is
// the README's usage on a real app over a SQLite file, and the router's own options.

const ADMIN = { authorization: 'Bearer admin' };

describe.each(EXPRESS_VERSIONS)('Express $major: reseolioScheduleRouter', ({ express }) => {
  it('serves a schedule declared at startup behind the job router’s authorize (SQLite file)', async () => {
    const engine = makeEngine({ storage: sqliteUrl() });
    const sendReport = engine.durable('reports:send', async (to: string) => `sent to ${to}`);
    await engine.schedule('reports:daily', sendReport, {
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      args: ['ops@example.com'],
    });
    await engine.start();
    const app = express();
    const authorize = (req: { get(name: string): string | undefined }) =>
      req.get('authorization') === ADMIN.authorization;
    app.use('/jobs', reseolioRouter({ instance: engine, authorize }));
    app.use('/schedules', reseolioScheduleRouter({ instance: engine, authorize }));
    const { base } = await serve(app);

    expect((await call(base, 'GET', '/schedules/reports%3Adaily')).status).toBe(403);
    expect(await call(base, 'GET', '/schedules/reports%3Adaily', ADMIN)).toMatchObject({
      status: 200,
      body: { schedule: { id: 'reports:daily', name: 'reports:send', status: 'active' } },
    });
    const triggered = await call(base, 'POST', '/schedules/reports%3Adaily/trigger', ADMIN);
    expect(triggered.status).toBe(202);
    const result = await call(
      base,
      'GET',
      `/jobs/${triggered.body.jobId}/result?waitMs=10000`,
      ADMIN,
    );
    expect(result.body).toMatchObject({ status: 'success', result: 'sent to ops@example.com' });
    expect(
      (await call(base, 'GET', '/jobs?scheduleId=reports%3Adaily', ADMIN)).body.jobs,
    ).toHaveLength(1);
    // A path the router does not serve goes on to the app (here Express's own 404).
    expect((await call(base, 'POST', '/schedules/reports%3Adaily', ADMIN)).status).toBe(404);
  });

  it('refuses bad options when built, with IntegrationConfigError', () => {
    const engine = makeEngine({ storage: 'memory:' });
    for (const options of [
      { instance: engine },
      { instance: engine, public: true, authorize: () => true },
      { instance: engine, public: true, waitMaxMs: 5 },
      { instance: engine, public: true, prefix: '/schedules' },
      { instance: engine, public: true, logger: {} },
      { public: true },
      null,
    ]) {
      expect(() => reseolioScheduleRouter(options as never), JSON.stringify(options)).toThrow(
        IntegrationConfigError,
      );
    }
    expect(() =>
      reseolioRouter({ instance: engine, public: true, schedulePrefix: '/s' } as never),
    ).toThrow(/takes no schedulePrefix/);
  });
});
