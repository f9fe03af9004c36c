import type { NextFunction, Request, Response } from 'express';
import { MemoryStorage, StorageError } from 'reseolio';
import { STORAGE_UNAVAILABLE_MESSAGE } from 'reseolio/http';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { JobRouterOptions } from '../src/index.ts';
import { reseolioRouter } from '../src/index.ts';
import {
  EXPRESS_VERSIONS,
  call as fetchJson,
  gate,
  makeEngine,
  serve,
  waitFor,
} from './helpers.ts';

const ADMIN = { authorization: 'Bearer admin' };

type ExpressFactory = (typeof EXPRESS_VERSIONS)[number]['express'];

/** An app with the job router at `prefix` and a few durable functions, on 127.0.0.1. */
async function setup(express: ExpressFactory, routes: JobRouterOptions, prefix = '/jobs') {
  const engine = makeEngine();
  const hold = gate();
  const echo = engine.durable('echo', async (value: unknown) => value);
  const held = engine.durable('held', async () => {
    await hold.promise;
    return 'released';
  });
  const attempts = { failing: 0 };
  const failing = engine.durable(
    'failing',
    async () => {
      attempts.failing += 1;
      throw Object.assign(new Error('card declined'), { code: 'DECLINED' });
    },
    { maxAttempts: 1 },
  );
  await engine.start();
  const app = express();
  app.use(prefix, reseolioRouter(engine, routes));
  const { base } = await serve(app);
  const call = (method: string, path: string, headers: Record<string, string> = {}) =>
    fetchJson(base, method, path, headers);
  return { engine, base, call, echo, held, hold, failing, attempts };
}

const adminOnly: JobRouterOptions = {
  authorize: (request: Request) => {
    const header = request.headers.authorization;
    if (header === undefined) throw new Error('no credentials');
    return header === 'Bearer admin';
  },
};

/** In-memory storage whose reads fail the way a broken database does. */
class FailingStorage extends MemoryStorage {
  readonly failure = new StorageError(
    'SQLite storage "/srv/secret/jobs.db": getJob failed with SQLITE_IOERR_READ: disk I/O error.',
    { operation: 'getJob', driverCode: 'SQLITE_IOERR_READ' },
  );

  override async getJob(): Promise<never> {
    throw this.failure;
  }

  override async listJobs(): Promise<never> {
    throw this.failure;
  }
}

describe.each(EXPRESS_VERSIONS)('job router on Express $major', ({ express }) => {
  it('refuses unauthorised callers with 401/403 and no job data', async () => {
    const { call, echo } = await setup(express, adminOnly);
    const handle = await echo({ secret: 'card-4242' });
    await handle.result(5000);
    const routes: [string, string][] = [
      ['GET', '/jobs'],
      ['GET', `/jobs/${handle.jobId}`],
      ['GET', `/jobs/${handle.jobId}/result`],
      ['POST', `/jobs/${handle.jobId}/retry`],
      ['POST', `/jobs/${handle.jobId}/cancel`],
      ['GET', '/jobs?limit=not-a-number'],
    ];
    for (const [method, path] of routes) {
      const anonymous = await call(method, path);
      expect(anonymous).toEqual({
        status: 401,
        body: {
          error: { code: 'RESEOLIO_UNAUTHENTICATED', message: 'Authentication is required.' },
        },
      });
      const wrong = await call(method, path, { authorization: 'Bearer guest' });
      expect(wrong).toEqual({
        status: 403,
        body: {
          error: { code: 'RESEOLIO_FORBIDDEN', message: 'You are not allowed to access jobs.' },
        },
      });
      expect(JSON.stringify([anonymous, wrong])).not.toMatch(/card-4242|echo/);
    }
    expect(await handle.status()).toBe('success');
  });

  it('refuses when an async authorize resolves false', async () => {
    const { call } = await setup(express, { authorize: async () => false });
    expect((await call('GET', '/jobs', ADMIN)).status).toBe(403);
  });

  it('gets and lists jobs as JSON for an authorised caller', async () => {
    const { call, echo } = await setup(express, adminOnly);
    const first = await echo({ at: new Date('2030-01-02T03:04:05.000Z'), big: 10n });
    await first.result(5000);
    const second = await echo('two');
    await second.result(5000);

    const one = await call('GET', `/jobs/${first.jobId}`, ADMIN);
    expect(one.status).toBe(200);
    expect(one.body.job).toMatchObject({
      id: first.jobId,
      name: 'echo',
      status: 'success',
      args: [{ at: '2030-01-02T03:04:05.000Z', big: '10' }],
      result: { at: '2030-01-02T03:04:05.000Z', big: '10' },
      attempt: 1,
    });

    const all = await call('GET', '/jobs?status=success&name=echo&limit=1&offset=0', ADMIN);
    expect(all.status).toBe(200);
    expect(all.body.limit).toBe(1);
    expect(all.body.jobs).toHaveLength(1);
    const next = await call('GET', '/jobs?status=success&name=echo&limit=1&offset=1', ADMIN);
    const ids = [...all.body.jobs, ...next.body.jobs].map((j: { id: string }) => j.id);
    expect(ids.sort()).toEqual([first.jobId, second.jobId].sort());
    expect((await call('GET', '/jobs?status=dead', ADMIN)).body.jobs).toEqual([]);
  });

  it('retries a dead job and cancels a pending one; 409 when the state does not allow it', async () => {
    const { call, failing, echo, attempts } = await setup(express, adminOnly);
    const dead = await failing();
    await expect(dead.result(5000)).rejects.toThrow(/card declined/);

    const result = await call('GET', `/jobs/${dead.jobId}/result`, ADMIN);
    expect(result).toMatchObject({
      status: 409,
      body: {
        jobId: dead.jobId,
        status: 'dead',
        error: { code: 'RESEOLIO_JOB_FAILED' },
        jobError: { name: 'Error', message: 'card declined', code: 'DECLINED' },
      },
    });
    expect(JSON.stringify(result.body)).not.toContain('stack');

    const retried = await call('POST', `/jobs/${dead.jobId}/retry`, ADMIN);
    expect(retried.status).toBe(200);
    expect(retried.body.job).toMatchObject({ id: dead.jobId });
    expect(['pending', 'running', 'dead']).toContain(retried.body.job.status);
    await waitFor(() => attempts.failing === 2);
    await waitFor(async () => (await dead.status()) === 'dead');

    const later = await echo.enqueue(['later'], { delayMs: 60_000 });
    const cancelled = await call('POST', `/jobs/${later.jobId}/cancel`, ADMIN);
    expect(cancelled).toMatchObject({ status: 200, body: { job: { status: 'cancelled' } } });
    expect(await call('POST', `/jobs/${later.jobId}/cancel`, ADMIN)).toMatchObject({
      status: 409,
      body: { error: { code: 'RESEOLIO_JOB_FINISHED' } },
    });
    expect(await call('GET', `/jobs/${later.jobId}/result`, ADMIN)).toMatchObject({
      status: 409,
      body: { status: 'cancelled', error: { code: 'RESEOLIO_JOB_CANCELLED' } },
    });

    const done = await echo('x');
    await done.result(5000);
    expect(await call('POST', `/jobs/${done.jobId}/retry`, ADMIN)).toMatchObject({
      status: 409,
      body: { error: { code: 'RESEOLIO_JOB_NOT_RETRYABLE' } },
    });
  });

  it('answers 202 while a job runs, waits for the result, and caps waitMs', async () => {
    const { call, held, hold } = await setup(express, { ...adminOnly, waitMaxMs: 200 });
    const handle = await held();
    await waitFor(async () => (await handle.status()) === 'running');
    expect(await call('GET', `/jobs/${handle.jobId}/result`, ADMIN)).toEqual({
      status: 202,
      body: { jobId: handle.jobId, status: 'running' },
    });
    const started = Date.now();
    const capped = await call('GET', `/jobs/${handle.jobId}/result?waitMs=60000`, ADMIN);
    expect(capped.status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    expect(Date.now() - started).toBeLessThan(5000);

    setTimeout(hold.open, 50);
    expect(await call('GET', `/jobs/${handle.jobId}/result?waitMs=5000`, ADMIN)).toEqual({
      status: 200,
      body: { jobId: handle.jobId, status: 'success', result: 'released' },
    });
  });

  it('answers 404 for an unknown job and 400 for a bad query', async () => {
    const { call } = await setup(express, adminOnly);
    for (const path of [
      '/jobs/nope',
      '/jobs/nope/result',
      '/jobs/nope/retry',
      '/jobs/nope/cancel',
    ]) {
      const method = path.endsWith('retry') || path.endsWith('cancel') ? 'POST' : 'GET';
      expect(await call(method, path, ADMIN)).toMatchObject({
        status: 404,
        body: { error: { code: 'RESEOLIO_JOB_NOT_FOUND' } },
      });
    }
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=abc',
      'offset=-1',
      'status=sleeping',
      'status=dead&status=success',
      'offset=100000000000000000000', // past what PostgreSQL's bigint OFFSET takes
      'name=orders%00', // NUL: an error on PostgreSQL, no match on SQLite
    ]) {
      expect(await call('GET', `/jobs?${query}`, ADMIN)).toMatchObject({
        status: 400,
        body: { error: { code: 'RESEOLIO_INVALID_INPUT' } },
      });
    }
    const long = await call('GET', `/jobs/${'x'.repeat(5000)}`, ADMIN);
    expect(long.status).toBe(404);
    expect(long.body.error.message).toContain('(5000 characters)');
    expect(long.body.error.message.length).toBeLessThan(300);
    expect((await call('GET', '/jobs/nope/result?waitMs=-5', ADMIN)).status).toBe(400);
    expect((await call('GET', '/jobs/nope/result?waitMs=1.5', ADMIN)).status).toBe(400);
  });

  it('serves public routes without authorize, under a custom prefix', async () => {
    const { call, echo } = await setup(express, { public: true }, '/admin/jobs');
    const handle = await echo(1);
    await handle.result(5000);
    expect((await call('GET', `/admin/jobs/${handle.jobId}`)).body.job.status).toBe('success');
    expect((await call('GET', `/jobs/${handle.jobId}`)).status).toBe(404);
  });

  it('answers 503 RESEOLIO_STORAGE when the database fails, without the driver message, and logs the error', async () => {
    const storage = new FailingStorage();
    const engine = makeEngine({ storage });
    await engine.start();
    const app = express();
    app.use('/jobs', reseolioRouter(engine, { public: true }));
    // The app's own error handler must not be reached.
    const reachedNext: unknown[] = [];
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      reachedNext.push(error);
      res.status(500).json({ fromApp: true });
    });
    const { base } = await serve(app);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    onTestFinished(() => logged.mockRestore());
    const id = '0190c0de-0000-7000-8000-000000000001';
    const routes: [string, string][] = [
      ['GET', '/jobs'],
      ['GET', `/jobs/${id}`],
      ['GET', `/jobs/${id}/result`],
      ['POST', `/jobs/${id}/retry`],
      ['POST', `/jobs/${id}/cancel`],
    ];
    for (const [method, path] of routes) {
      const response = await fetchJson(base, method, path);
      expect(response, path).toEqual({
        status: 503,
        body: { error: { code: 'RESEOLIO_STORAGE', message: STORAGE_UNAVAILABLE_MESSAGE } },
      });
      expect(JSON.stringify(response.body)).not.toMatch(/secret|SQLITE|I\/O/);
    }
    expect(reachedNext).toEqual([]);
    expect(logged).toHaveBeenCalledTimes(routes.length);
    expect(logged).toHaveBeenCalledWith(
      '[@reseolio/express] the job storage failed; answering 503',
      storage.failure,
    );
  });

  it('passes paths and methods it does not serve to the next handler', async () => {
    const engine = makeEngine();
    const app = express();
    app.use('/jobs', reseolioRouter(engine, { authorize: () => false }));
    // app.use matches every method and sub-path on both majors.
    app.use('/jobs', (req, res) => {
      res.json({ fellThrough: `${req.method} ${req.originalUrl}` });
    });
    const { base } = await serve(app);
    for (const [method, path] of [
      ['DELETE', '/jobs/abc'],
      ['GET', '/jobs/abc/retry'],
      ['POST', '/jobs/abc/result'],
      ['GET', '/jobs/abc/other'],
      ['GET', '/jobs/abc/result/extra'],
    ] as const) {
      expect(await fetchJson(base, method, path)).toEqual({
        status: 200,
        body: { fellThrough: `${method} ${path}` },
      });
    }
    expect((await fetchJson(base, 'GET', '/jobs/abc')).status).toBe(403);
  });
});
