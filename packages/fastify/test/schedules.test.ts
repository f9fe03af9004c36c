import { describe, expect, it } from 'vitest';
import reseolio from '../src/index.ts';
import { fast, listen, makeApp, sqliteUrl } from './helpers.ts';

// The schedule routes' answers on every framework are the shared conformance suite's; this is
// the README's usage on a real app over a SQLite file.

describe('schedules on a Fastify app (SQLite file)', () => {
  it('declares a schedule at startup and serves it through the schedule routes, behind the job routes’ authorize', async () => {
    const app = makeApp();
    await app.register(reseolio, {
      storage: sqliteUrl(),
      ...fast,
      routes: { authorize: (request) => request.headers.authorization === 'Bearer s3cret' },
    });
    const sent: string[] = [];
    const sendReport = app.reseolio.durable('reports:send', async (to: string) => {
      sent.push(to);
      return `sent to ${to}`;
    });
    await app.reseolio.schedule('reports:daily', sendReport, {
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      args: ['ops@example.com'],
    });
    const base = await listen(app);
    const admin = { authorization: 'Bearer s3cret' };
    const get = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${base}${path}`, init);
      return { status: response.status, body: (await response.json()) as any };
    };

    expect((await get('/schedules/reports%3Adaily')).status).toBe(403);
    const one = await get('/schedules/reports%3Adaily', { headers: admin });
    expect(one).toMatchObject({
      status: 200,
      body: {
        schedule: {
          id: 'reports:daily',
          name: 'reports:send',
          cron: '0 9 * * 1-5',
          timezone: 'Europe/Berlin',
          args: ['ops@example.com'],
          status: 'active',
        },
      },
    });
    // 09:00 Berlin on a weekday is 07:00 or 08:00 UTC.
    const next = new Date(one.body.schedule.nextRunAt);
    expect([7, 8]).toContain(next.getUTCHours());
    expect([1, 2, 3, 4, 5]).toContain(next.getUTCDay());

    const paused = await get('/schedules/reports%3Adaily/pause', {
      method: 'POST',
      headers: admin,
    });
    expect(paused.body.schedule.status).toBe('paused');
    const triggered = await get('/schedules/reports%3Adaily/trigger', {
      method: 'POST',
      headers: admin,
    });
    expect(triggered.status).toBe(202);
    const result = await get(`/jobs/${triggered.body.jobId}/result?waitMs=10000`, {
      headers: admin,
    });
    expect(result.body).toEqual({
      jobId: triggered.body.jobId,
      status: 'success',
      result: 'sent to ops@example.com',
    });
    expect(sent).toEqual(['ops@example.com']);
    const runs = await get('/jobs?scheduleId=reports%3Adaily', { headers: admin });
    expect(runs.body.jobs.map((j: { id: string }) => j.id)).toEqual([triggered.body.jobId]);
    const listed = await get('/schedules?status=paused', { headers: admin });
    expect(listed.body.schedules.map((s: { id: string }) => s.id)).toEqual(['reports:daily']);
    expect(
      (await get('/schedules/reports%3Adaily/resume', { method: 'POST', headers: admin })).body
        .schedule.status,
    ).toBe('active');
    await app.close();
  });

  it('serves no schedule routes with schedulePrefix: false, and refuses a bad schedulePrefix', async () => {
    const app = makeApp();
    await app.register(reseolio, {
      storage: 'memory:',
      routes: { public: true, schedulePrefix: false },
    });
    const base = await listen(app);
    expect((await fetch(`${base}/schedules`)).status).toBe(404);
    expect((await fetch(`${base}/jobs`)).status).toBe(200);

    const bad = makeApp();
    const registered = (async () => {
      await bad.register(reseolio, {
        storage: 'memory:',
        routes: { public: true, schedulePrefix: 'schedules' },
      });
      await bad.ready();
    })();
    await expect(registered).rejects.toThrow(/routes\.schedulePrefix must be a path/);
  });
});
