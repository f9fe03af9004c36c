import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { createSqliteStorage } from '@reseolio/storage-sqlite';
import type { FastifyInstance } from 'fastify';
import { MemoryStorage, StorageError } from 'reseolio';
import { STORAGE_UNAVAILABLE_MESSAGE } from 'reseolio/http';
import { describe, expect, it } from 'vitest';
import type { JobRoutesOptions } from '../src/index.ts';
import reseolio from '../src/index.ts';
import { fast, gate, listen, makeApp, sqliteUrl, waitFor } from './helpers.ts';

const ADMIN = { authorization: 'Bearer admin' };

/** The SQLite adapter's own driver, for a second connection to the same file. */
const Database = createRequire(createRequire(import.meta.url).resolve('@reseolio/storage-sqlite'))(
  'better-sqlite3',
) as new (
  filename: string,
) => { exec(sql: string): void; close(): void };

/** An app with the job routes and a few durable functions, listening on 127.0.0.1. */
async function setup(routes: JobRoutesOptions) {
  const app: FastifyInstance = makeApp();
  await app.register(reseolio, { storage: 'memory:', ...fast, routes });
  const hold = gate();
  const echo = app.reseolio.durable('echo', async (value: unknown) => value);
  const held = app.reseolio.durable('held', async () => {
    await hold.promise;
    return 'released';
  });
  const attempts = { failing: 0 };
  const failing = app.reseolio.durable(
    'failing',
    async () => {
      attempts.failing += 1;
      throw Object.assign(new Error('card declined'), { code: 'DECLINED' });
    },
    { maxAttempts: 1 },
  );
  const base = await listen(app);
  const call = async (method: string, path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, { method, headers });
    return { status: response.status, body: (await response.json()) as any };
  };
  return { app, base, call, echo, held, hold, failing, attempts };
}

const adminOnly: JobRoutesOptions = {
  authorize: (request) => {
    const header = request.headers.authorization;
    if (header === undefined) throw new Error('no credentials');
    return header === 'Bearer admin';
  },
};

describe('job routes', () => {
  it('refuses unauthorised callers with 401/403 and no job data', async () => {
    const { call, echo } = await setup(adminOnly);
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
    const { call } = await setup({ authorize: async () => false });
    expect((await call('GET', '/jobs', ADMIN)).status).toBe(403);
  });

  it('gets and lists jobs as JSON for an authorised caller', async () => {
    const { call, echo } = await setup(adminOnly);
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
    const { call, failing, echo, attempts } = await setup(adminOnly);
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
    const { call, held, hold } = await setup({ ...adminOnly, waitMaxMs: 200 });
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
    const { call } = await setup(adminOnly);
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
    expect((await call('GET', '/jobs/nope/result?waitMs=-5', ADMIN)).status).toBe(400);
    expect((await call('GET', '/jobs/nope/result?waitMs=1.5', ADMIN)).status).toBe(400);
  });

  it('serves public routes without authorize, under a custom prefix', async () => {
    const { call, echo } = await setup({ public: true, prefix: '/admin/jobs' });
    const handle = await echo(1);
    await handle.result(5000);
    expect((await call('GET', `/admin/jobs/${handle.jobId}`)).body.job.status).toBe('success');
    expect((await call('GET', `/jobs/${handle.jobId}`)).status).toBe(404);
  });

  it('leaves the app routes and error handler alone', async () => {
    const { app, call } = await setup(adminOnly);
    expect(app.printRoutes()).toContain('jobs');
    const { status } = await call('GET', '/not-a-job-route');
    expect(status).toBe(404);
  });
});

/** In-memory storage whose reads fail the way a broken database does. */
class FailingStorage extends MemoryStorage {
  readonly failure = new StorageError(
    'SQLite storage "/srv/secret/jobs.db": getJob failed with SQLITE_IOERR_READ: disk I/O error.',
    {
      operation: 'getJob',
      driverCode: 'SQLITE_IOERR_READ',
      cause: Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_READ' }),
    },
  );

  override async getJob(): Promise<never> {
    throw this.failure;
  }

  override async listJobs(): Promise<never> {
    throw this.failure;
  }
}

describe('job routes when the database fails', () => {
  const unavailable = {
    status: 503,
    body: { error: { code: 'RESEOLIO_STORAGE', message: STORAGE_UNAVAILABLE_MESSAGE } },
  };

  it('answers 503 RESEOLIO_STORAGE on every route, without the driver message, and log the error', async () => {
    const lines: { level: number; msg: string; err?: { message: string; code: string } }[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const app = makeApp({ logger: { level: 'error', stream } });
    const storage = new FailingStorage();
    await app.register(reseolio, { storage, ...fast, routes: { public: true } });
    const base = await listen(app);
    const id = '0190c0de-0000-7000-8000-000000000001';
    const routes: [string, string][] = [
      ['GET', '/jobs'],
      ['GET', `/jobs/${id}`],
      ['GET', `/jobs/${id}/result`],
      ['POST', `/jobs/${id}/retry`],
      ['POST', `/jobs/${id}/cancel`],
    ];
    for (const [method, path] of routes) {
      const response = await fetch(`${base}${path}`, { method });
      const body = await response.text();
      expect({ status: response.status, body: JSON.parse(body) }, path).toEqual(unavailable);
      expect(body).not.toMatch(/secret|SQLITE|I\/O/);
    }
    const logged = lines.filter((line) => line.msg.includes('the job storage failed'));
    expect(logged).toHaveLength(routes.length);
    expect(logged[0]).toMatchObject({
      level: 50,
      // pino's serializer appends the causes' messages.
      err: { message: expect.stringContaining(storage.failure.message), code: 'RESEOLIO_STORAGE' },
    });
  });

  it('SQLite: a write lock held past busyTimeoutMs answers 503, and the same request succeeds once it is free', async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'reseolio-fastify-busy-')), 'jobs.db');
    const storage = createSqliteStorage({ filename, busyTimeoutMs: 0 });
    const app = makeApp();
    await app.register(reseolio, { storage, ...fast, routes: { public: true } });
    app.addHook('onClose', async () => {
      await storage.close();
      rmSync(dirname(filename), { recursive: true, force: true });
    });
    const later = app.reseolio.durable('later', async () => 'done');
    const base = await listen(app);
    const handle = await later.enqueue([], { delayMs: 60_000 });

    const other = new Database(filename);
    try {
      other.exec('BEGIN IMMEDIATE');
      const busy = await fetch(`${base}/jobs/${handle.jobId}/cancel`, { method: 'POST' });
      expect({ status: busy.status, body: await busy.json() }).toEqual(unavailable);
      // Reads do not wait for the writer (WAL).
      expect((await fetch(`${base}/jobs/${handle.jobId}`)).status).toBe(200);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    const cancelled = await fetch(`${base}/jobs/${handle.jobId}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as any).job.status).toBe('cancelled');
  });

  it('SQLite: the OFFSET that once reached the driver as SQLITE_MISMATCH (a 500) is a 400', async () => {
    const app = makeApp();
    await app.register(reseolio, { storage: sqliteUrl(), ...fast, routes: { public: true } });
    const base = await listen(app);
    const response = await fetch(`${base}/jobs?offset=100000000000000000000`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error.code).toBe('RESEOLIO_INVALID_INPUT');
  });
});
