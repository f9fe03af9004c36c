import { describe, expect, it, vi } from 'vitest';
import {
  createJobRouteHandler,
  createScheduleRouteHandler,
  IntegrationConfigError,
  matchScheduleRoute,
  parseListQuery,
  parseScheduleListQuery,
  resolveJobApiOptions,
  resolveScheduleApiOptions,
  SCHEDULE_ROUTES,
  validateScheduleDeclaration,
} from '../src/http/index.ts';
import {
  InvalidScheduleError,
  ReseolioValidationError,
  type ScheduleInfo,
  toScheduleJSON,
} from '../src/index.ts';
import { makeEngine, waitFor } from './helpers.ts';

const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };

/** The schedule routes of an engine, behind an authorize that lets `'admin'` in. */
async function setup() {
  const engine = makeEngine();
  const report = engine.durable('reports:send', async (to: string) => `sent to ${to}`);
  await engine.start();
  const handle = createScheduleRouteHandler<string>(engine, {
    authorize: (request) => request === 'admin',
  });
  const call = async (
    action: (typeof SCHEDULE_ROUTES)[number]['action'],
    id?: string,
    query = {},
  ): Promise<{ status: number; body: any }> => handle(action, { request: 'admin', id, query, log });
  return { engine, report, handle, call };
}

describe('the schedule route table', () => {
  it('matches the five routes and decodes the id; anything else is not ours', () => {
    expect(SCHEDULE_ROUTES.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /',
      'GET /:id',
      'POST /:id/pause',
      'POST /:id/resume',
      'POST /:id/trigger',
    ]);
    expect(matchScheduleRoute('GET', '/')).toEqual({ action: 'list', id: undefined });
    expect(matchScheduleRoute('GET', '/reports%3Adaily')).toEqual({
      action: 'get',
      id: 'reports:daily',
    });
    expect(matchScheduleRoute('POST', '/s1/pause')).toEqual({ action: 'pause', id: 's1' });
    expect(matchScheduleRoute('POST', '/s1/resume')).toEqual({ action: 'resume', id: 's1' });
    expect(matchScheduleRoute('POST', '/s1/trigger')).toEqual({ action: 'trigger', id: 's1' });
    expect(matchScheduleRoute('GET', '/%E0%A4%A')).toEqual({ action: 'get', id: null });
    for (const [method, path] of [
      ['POST', '/'],
      ['DELETE', '/s1'],
      ['GET', '/s1/pause'],
      ['POST', '/s1/retry'],
      ['POST', '//trigger'],
      ['POST', '/s1/trigger/extra'],
    ]) {
      expect(matchScheduleRoute(method!, path!), `${method} ${path}`).toBeUndefined();
    }
  });
});

describe('toScheduleJSON', () => {
  it('writes dates as ISO strings and arguments as toJSONValue does', () => {
    const info: ScheduleInfo = {
      id: 'reports:daily',
      name: 'reports:send',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      args: [{ at: new Date('2030-01-02T03:04:05.000Z'), big: 10n }],
      status: 'active',
      catchUp: 'latest',
      catchUpWindowMs: 86_400_000,
      overlap: 'allow',
      nextRunAt: new Date('2030-01-03T08:00:00.000Z'),
      lastRunAt: null,
      lastJobId: null,
      createdAt: new Date('2030-01-01T00:00:00.000Z'),
      updatedAt: new Date('2030-01-01T00:00:01.000Z'),
    };
    const json = toScheduleJSON(info);
    expect(json).toEqual({
      ...info,
      args: [{ at: '2030-01-02T03:04:05.000Z', big: '10' }],
      nextRunAt: '2030-01-03T08:00:00.000Z',
      createdAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:01.000Z',
    });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe('the schedule routes', () => {
  it('lists, gets, pauses, resumes and triggers schedules', async () => {
    const { engine, report, call } = await setup();
    await engine.schedule('reports:daily', report, {
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      args: ['ops@example.com'],
    });
    await engine.schedule('reports:weekly', report, { cron: '0 9 * * 1', args: ['ceo'] });

    const list = await call('list', undefined, { limit: '1', offset: '1' });
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ limit: 1, offset: 1, schedules: [{ id: 'reports:weekly' }] });
    expect((await call('list', undefined, {})).body).toMatchObject({ limit: 100, offset: 0 });

    const one = await call('get', 'reports:daily');
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
          lastJobId: null,
        },
      },
    });
    expect(typeof one.body.schedule.nextRunAt).toBe('string');

    expect(await call('pause', 'reports:daily')).toMatchObject({
      status: 200,
      body: { schedule: { id: 'reports:daily', status: 'paused' } },
    });
    const paused = await call('list', undefined, { status: 'paused' });
    expect(paused.body.schedules.map((s: { id: string }) => s.id)).toEqual(['reports:daily']);
    expect(
      (await call('list', undefined, { name: 'elsewhere' })).body.schedules as unknown[],
    ).toEqual([]);

    // A paused schedule still triggers; 202 with the run's job id.
    const triggered = await call('trigger', 'reports:daily');
    expect(triggered.status).toBe(202);
    expect(Object.keys(triggered.body)).toEqual(['jobId']);
    const run = engine.getHandle(triggered.body.jobId);
    expect(await run.result(5000)).toBe('sent to ops@example.com');
    expect((await run.details()).scheduleId).toBe('reports:daily');
    await waitFor(async () => (await engine.getSchedule('reports:daily'))?.lastJobId === run.jobId);

    expect(await call('resume', 'reports:daily')).toMatchObject({
      status: 200,
      body: { schedule: { status: 'active' } },
    });
  });

  it('answers 404 RESEOLIO_SCHEDULE_NOT_FOUND for an unknown id, 400 for bad input', async () => {
    const { call } = await setup();
    for (const action of ['get', 'pause', 'resume', 'trigger'] as const) {
      expect(await call(action, 'nope'), action).toMatchObject({
        status: 404,
        body: { error: { code: 'RESEOLIO_SCHEDULE_NOT_FOUND' } },
      });
      expect((await call(action, undefined)).status).toBe(400);
      expect((await call(action, 'x'.repeat(201))).status, 'an id no schedule can have').toBe(400);
    }
    for (const query of [
      { status: 'sleeping' },
      { status: 'dead' },
      { status: ['active', 'paused'] },
      { name: '' },
      { name: 'a\u0000b' },
      { limit: '0' },
      { limit: '1001' },
      { offset: '-1' },
      { offset: '100000000000000000000' },
    ]) {
      expect(await call('list', undefined, query), JSON.stringify(query)).toMatchObject({
        status: 400,
        body: { error: { code: 'RESEOLIO_INVALID_INPUT' } },
      });
    }
  });

  it('runs authorize first, as the job routes do', async () => {
    const { handle } = await setup();
    const refused = await handle('get', { request: 'guest', id: 'nope', query: {}, log });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'RESEOLIO_FORBIDDEN' } } });
    const badQuery = await handle('list', {
      request: 'guest',
      id: undefined,
      query: { limit: 'x' },
      log,
    });
    expect(badQuery.status).toBe(403);
  });
});

describe('the job routes list a schedule’s runs', () => {
  it('filters GET /jobs by scheduleId', async () => {
    const { engine, report } = await setup();
    const jobs = createJobRouteHandler(engine, resolveJobApiOptions({ public: true }, 'routes'));
    await engine.schedule('reports:daily', report, { cron: '0 9 * * *', args: ['a'] });
    const run = await engine.triggerSchedule('reports:daily');
    await report('not a run');
    const list: { body: any } = await jobs('list', {
      request: {},
      id: undefined,
      query: { scheduleId: 'reports:daily' },
      log,
    });
    expect(list.body.jobs.map((j: { id: string }) => j.id)).toEqual([run.jobId]);
    expect(parseListQuery({}).scheduleId).toBeUndefined();
    expect(() => parseListQuery({ scheduleId: '' })).toThrow(ReseolioValidationError);
    expect(() => parseListQuery({ scheduleId: ['a', 'b'] })).toThrow(/given once/);
  });
});

describe('schedule route options', () => {
  it('mounts the schedule routes at /schedules unless told otherwise', () => {
    expect(resolveJobApiOptions({ public: true }, 'routes').schedulePrefix).toBe('/schedules');
    expect(
      resolveJobApiOptions({ public: true, schedulePrefix: '/admin/schedules' }, 'routes')
        .schedulePrefix,
    ).toBe('/admin/schedules');
    expect(
      resolveJobApiOptions({ public: true, schedulePrefix: false }, 'routes').schedulePrefix,
    ).toBeNull();
    expect(
      resolveJobApiOptions({ public: true }, 'o', { withPrefix: false }).schedulePrefix,
    ).toBeNull();
  });

  it('refuses a bad schedulePrefix, one equal to prefix, and schedulePrefix where routes are mounted by hand', () => {
    for (const [options, message] of [
      [{ public: true, schedulePrefix: 'schedules' }, /routes\.schedulePrefix must be a path/],
      [{ public: true, schedulePrefix: true }, /routes\.schedulePrefix must be a path/],
      [{ public: true, schedulePrefix: '/jobs/' }, /must differ from routes\.prefix/],
    ] as const) {
      expect(() => resolveJobApiOptions(options, 'routes')).toThrow(IntegrationConfigError);
      expect(() => resolveJobApiOptions(options, 'routes')).toThrow(message);
    }
    expect(() =>
      resolveJobApiOptions({ public: true, schedulePrefix: '/s' }, 'o', { withPrefix: false }),
    ).toThrow(/takes no schedulePrefix/);
  });

  it('resolveScheduleApiOptions takes authorize or public: true, nothing else', () => {
    const authorize = () => true;
    expect(resolveScheduleApiOptions({ authorize }, 'o')).toEqual({ authorize });
    expect(resolveScheduleApiOptions({ public: true }, 'o')).toEqual({ authorize: null });
    for (const options of [
      {},
      { public: false },
      { authorize, public: true },
      { authorize: 'yes' },
      { public: true, waitMaxMs: 5 },
      { public: true, prefix: '/s' },
      null,
    ]) {
      expect(() => resolveScheduleApiOptions(options, 'o'), JSON.stringify(options)).toThrow(
        IntegrationConfigError,
      );
    }
  });
});

describe('validateScheduleDeclaration', () => {
  it('checks id and options as schedule() does, without storage', () => {
    expect(() => validateScheduleDeclaration('a', { cron: '*/5 * * * * *' })).not.toThrow();
    expect(() => validateScheduleDeclaration('a', { cron: 'every day' })).toThrow(
      InvalidScheduleError,
    );
    expect(() =>
      validateScheduleDeclaration('a', { cron: '0 9 * * *', timezone: 'Mars/Olympus' }),
    ).toThrow(InvalidScheduleError);
    expect(() => validateScheduleDeclaration('a', { cron: '0 9 * * *', overlap: 'x' })).toThrow(
      ReseolioValidationError,
    );
    expect(() => validateScheduleDeclaration('', { cron: '0 9 * * *' })).toThrow(
      ReseolioValidationError,
    );
    expect(() => validateScheduleDeclaration('a', {})).toThrow(ReseolioValidationError);
  });
});

describe('parseScheduleListQuery', () => {
  it('fills limit and offset', () => {
    expect(parseScheduleListQuery({})).toEqual({
      status: undefined,
      name: undefined,
      limit: 100,
      offset: 0,
    });
  });
});
