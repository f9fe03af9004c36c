import { waitFor } from '@reseolio/test-utils';
import { STORAGE_UNAVAILABLE_MESSAGE } from 'reseolio/http';
import { expect, it } from 'vitest';
import {
  ADMIN,
  adminOnly,
  FailingStorage,
  logged,
  UNSERVED_UNDER_SCHEDULE_PREFIX,
} from '../fixtures.ts';
import type { SuiteContext } from '../run-http-conformance.ts';

/** An id no schedule has. */
const UNKNOWN = 'reports:unknown';

const EVERY_SCHEDULE_ROUTE = (id: string): [string, string][] => [
  ['GET', '/schedules'],
  ['GET', `/schedules/${encodeURIComponent(id)}`],
  ['POST', `/schedules/${encodeURIComponent(id)}/pause`],
  ['POST', `/schedules/${encodeURIComponent(id)}/resume`],
  ['POST', `/schedules/${encodeURIComponent(id)}/trigger`],
];

export function schedulesSuite({ serve }: SuiteContext): void {
  it('schedule routes: refuses unauthorised callers with 401/403 before anything runs, and shows no schedule data', async () => {
    const { call, echo, engine, logs } = await serve(adminOnly);
    await engine.schedule('reports:daily', echo, { cron: '0 9 * * 1-5', args: ['card-4242'] });
    for (const [method, path] of [
      ...EVERY_SCHEDULE_ROUTE('reports:daily'),
      ['GET', '/schedules?limit=not-a-number'],
    ]) {
      const anonymous = await call(method!, path!);
      expect(anonymous, `${method} ${path}`).toEqual({
        status: 401,
        body: {
          error: { code: 'RESEOLIO_UNAUTHENTICATED', message: 'Authentication is required.' },
        },
      });
      const wrong = await call(method!, path!, { authorization: 'Bearer guest' });
      expect(wrong, `${method} ${path}`).toEqual({
        status: 403,
        body: {
          error: { code: 'RESEOLIO_FORBIDDEN', message: 'You are not allowed to access jobs.' },
        },
      });
      expect(JSON.stringify([anonymous, wrong])).not.toMatch(/card-4242|reports|echo/);
    }
    // Nothing was paused or triggered by a refused call.
    const schedule = await engine.getSchedule('reports:daily');
    expect(schedule).toMatchObject({ status: 'active', lastJobId: null });
    expect(logged(logs, 'error')).toEqual([]);
    expect((await call('GET', '/schedules/reports%3Adaily', ADMIN)).status).toBe(200);
  });

  it('schedule routes: lists, gets, pauses, resumes and triggers schedules as JSON', async () => {
    const { call, echo, engine } = await serve(adminOnly);
    await engine.schedule('reports:daily', echo, {
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      args: [{ at: new Date('2030-01-02T03:04:05.000Z'), big: 10n }],
    });
    await engine.schedule('reports:weekly', echo, { cron: '0 9 * * 1', overlap: 'skip' });

    const one = await call('GET', '/schedules/reports%3Adaily', ADMIN);
    expect(one.status).toBe(200);
    expect(one.body.schedule).toMatchObject({
      id: 'reports:daily',
      name: 'echo',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      args: [{ at: '2030-01-02T03:04:05.000Z', big: '10' }],
      status: 'active',
      catchUp: 'latest',
      overlap: 'allow',
      lastRunAt: null,
      lastJobId: null,
    });
    for (const key of ['nextRunAt', 'createdAt', 'updatedAt']) {
      expect(new Date(one.body.schedule[key]).toISOString(), key).toBe(one.body.schedule[key]);
    }

    const all = await call('GET', '/schedules?name=echo&limit=1&offset=0', ADMIN);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ limit: 1, offset: 0 });
    const next = await call('GET', '/schedules?name=echo&limit=1&offset=1', ADMIN);
    const ids = [...all.body.schedules, ...next.body.schedules].map((s: { id: string }) => s.id);
    expect(ids.sort()).toEqual(['reports:daily', 'reports:weekly']);
    expect((await call('GET', '/schedules', ADMIN)).body).toMatchObject({ limit: 100, offset: 0 });
    expect((await call('GET', '/schedules?name=held', ADMIN)).body.schedules).toEqual([]);

    expect(await call('POST', '/schedules/reports%3Adaily/pause', ADMIN)).toMatchObject({
      status: 200,
      body: { schedule: { id: 'reports:daily', status: 'paused' } },
    });
    const paused = await call('GET', '/schedules?status=paused', ADMIN);
    expect(paused.body.schedules.map((s: { id: string }) => s.id)).toEqual(['reports:daily']);
    expect((await call('GET', '/schedules?status=active', ADMIN)).body.schedules).toHaveLength(1);

    // A paused schedule still runs when triggered: 202 with the run's job id.
    const triggered = await call('POST', '/schedules/reports%3Adaily/trigger', ADMIN);
    expect(triggered.status).toBe(202);
    expect(Object.keys(triggered.body)).toEqual(['jobId']);
    const { jobId } = triggered.body as { jobId: string };
    const run = await call('GET', `/jobs/${jobId}/result?waitMs=5000`, ADMIN);
    expect(run).toEqual({
      status: 200,
      body: { jobId, status: 'success', result: { at: '2030-01-02T03:04:05.000Z', big: '10' } },
    });
    expect((await call('GET', `/jobs/${jobId}`, ADMIN)).body.job.scheduleId).toBe('reports:daily');
    const runs = await call('GET', '/jobs?scheduleId=reports%3Adaily', ADMIN);
    expect(runs.body.jobs.map((j: { id: string }) => j.id)).toEqual([jobId]);
    expect((await call('GET', '/jobs?scheduleId=reports%3Aweekly', ADMIN)).body.jobs).toEqual([]);
    await waitFor(async () => (await engine.getSchedule('reports:daily'))?.lastJobId === jobId);
    expect((await call('GET', '/schedules/reports%3Adaily', ADMIN)).body.schedule).toMatchObject({
      status: 'paused',
      lastJobId: jobId,
    });

    expect(await call('POST', '/schedules/reports%3Adaily/resume', ADMIN)).toMatchObject({
      status: 200,
      body: { schedule: { id: 'reports:daily', status: 'active' } },
    });
    // Pausing and resuming are idempotent.
    expect((await call('POST', '/schedules/reports%3Adaily/resume', ADMIN)).status).toBe(200);
  });

  it('schedule routes: 404 RESEOLIO_SCHEDULE_NOT_FOUND for an unknown id, 400 for a bad query or id', async () => {
    const { call } = await serve(adminOnly);
    for (const [method, path] of EVERY_SCHEDULE_ROUTE(UNKNOWN).slice(1)) {
      const response = await call(method, path, ADMIN);
      expect(response, `${method} ${path}`).toMatchObject({
        status: 404,
        body: { error: { code: 'RESEOLIO_SCHEDULE_NOT_FOUND' } },
      });
      expect(response.body.error.message).toContain(UNKNOWN);
    }
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=abc',
      'limit=',
      'offset=-1',
      'offset=1.5',
      'offset=100000000000000000000',
      'status=sleeping',
      'status=dead',
      'status=active&status=paused',
      'name=',
      'name=orders%00',
    ]) {
      expect(await call('GET', `/schedules?${query}`, ADMIN), query).toMatchObject({
        status: 400,
        body: { error: { code: 'RESEOLIO_INVALID_INPUT' } },
      });
    }
    for (const query of ['scheduleId=', 'scheduleId=a&scheduleId=b']) {
      expect(await call('GET', `/jobs?${query}`, ADMIN), query).toMatchObject({
        status: 400,
        body: { error: { code: 'RESEOLIO_INVALID_INPUT' } },
      });
    }
    expect((await call('GET', '/schedules/%E0%A4%A', ADMIN)).status).toBe(400);
  });

  it('schedule routes: 503 RESEOLIO_STORAGE when the database fails, logged and not shown; 503 once the engine has stopped', async () => {
    const storage = new FailingStorage();
    const { call, logs } = await serve({ public: true }, { storage });
    const routes = EVERY_SCHEDULE_ROUTE(UNKNOWN);
    for (const [method, path] of routes) {
      const response = await call(method, path);
      expect(response, `${method} ${path}`).toEqual({
        status: 503,
        body: { error: { code: 'RESEOLIO_STORAGE', message: STORAGE_UNAVAILABLE_MESSAGE } },
      });
    }
    expect(logged(logs, 'error', 'storage failed', 'SQLITE_IOERR_READ')).toHaveLength(
      routes.length,
    );

    const { call: callStopped, engine, echo } = await serve({ public: true });
    await engine.schedule('reports:daily', echo, { cron: '0 9 * * *' });
    await engine.stop();
    for (const [method, path] of EVERY_SCHEDULE_ROUTE('reports:daily')) {
      expect(await callStopped(method, path), `${method} ${path}`).toMatchObject({
        status: 503,
        body: { error: { code: 'RESEOLIO_INVALID_STATE' } },
      });
    }
  });

  it('schedule routes: served under a custom schedulePrefix only, and paths they do not serve are left to the app', async () => {
    const { call, echo, engine } = await serve(
      { public: true },
      { prefix: '/admin/jobs', schedulePrefix: '/admin/schedules' },
    );
    await engine.schedule('nightly', echo, { cron: '0 3 * * *' });
    expect((await call('GET', '/admin/schedules/nightly')).body.schedule.id).toBe('nightly');
    expect((await call('GET', '/admin/schedules')).body.schedules).toHaveLength(1);
    expect((await call('GET', '/schedules/nightly')).status).toBe(404);

    let asked = 0;
    const { call: callOther } = await serve({
      authorize: () => {
        asked += 1;
        return false;
      },
    });
    for (const [method, path] of UNSERVED_UNDER_SCHEDULE_PREFIX) {
      expect((await callOther(method, path)).status, `${method} ${path}`).toBe(404);
    }
    expect(asked).toBe(0);
    expect((await callOther('GET', '/schedules/abc')).status).toBe(403);
    expect(asked).toBe(1);
  });
}
