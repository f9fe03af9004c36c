import { Writable } from 'node:stream';
import { Reseolio, StorageConfigError } from 'reseolio';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import reseolio, { IntegrationConfigError, reseolioPlugin } from '../src/index.ts';
import { fast, gate, listen, makeApp, sqliteUrl, waitFor } from './helpers.ts';

describe('@reseolio/fastify plugin', () => {
  it('runs a job enqueued by a route and serves its result through the job routes (SQLite file)', async () => {
    const app = makeApp();
    await app.register(reseolio, {
      storage: sqliteUrl(),
      ...fast,
      routes: { authorize: (request) => request.headers.authorization === 'Bearer admin' },
    });
    const double = app.reseolio.durable('math:double', async (n: number) => ({ doubled: n * 2 }));
    app.post<{ Body: { n: number } }>('/double', async (request, reply) => {
      const handle = await double(request.body.n);
      return reply.code(202).send({ jobId: handle.jobId });
    });
    const base = await listen(app);

    const enqueued = await fetch(`${base}/double`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: 21 }),
    });
    expect(enqueued.status).toBe(202);
    const { jobId } = (await enqueued.json()) as { jobId: string };

    const result = await fetch(`${base}/jobs/${jobId}/result?waitMs=5000`, {
      headers: { authorization: 'Bearer admin' },
    });
    expect(result.status).toBe(200);
    expect(await result.json()).toEqual({ jobId, status: 'success', result: { doubled: 42 } });
  });

  it('lets a running job finish on close and leaves nothing running (SQLite file)', async () => {
    const storage = sqliteUrl();
    const app = makeApp();
    await app.register(reseolio, { storage, ...fast });
    const release = gate();
    let finished = false;
    const slow = app.reseolio.durable('slow', async () => {
      await release.promise;
      finished = true;
      return 'done';
    });
    await listen(app);
    const handle = await slow();
    await waitFor(async () => (await handle.status()) === 'running');

    const closing = app.close();
    setTimeout(release.open, 100);
    await closing;

    expect(finished).toBe(true);
    expect(app.reseolio.state).toBe('stopped');
    // The plugin closed the file it opened; a fresh engine reads what it left behind.
    const reader = new Reseolio({ storage, workerConcurrency: 0 });
    try {
      expect(await reader.listJobs({ status: 'running' })).toEqual([]);
      expect(await reader.getHandle(handle.jobId).status()).toBe('success');
    } finally {
      await reader.stop();
    }
  });

  it('starts workers only when the app is ready', async () => {
    const app = makeApp();
    await app.register(reseolio, { storage: 'memory:', ...fast });
    expect(app.reseolio.state).toBe('initialized');
    await app.ready();
    expect(app.reseolio.state).toBe('started');
  });

  it('makes ready() reject for an unknown storage scheme', async () => {
    const app = makeApp();
    app.register(reseolio, { storage: 'mongodb://localhost/jobs' });
    await expect(app.ready()).rejects.toThrow(/Unknown storage URL scheme "mongodb:"/);
  });

  it('fails when registered twice', async () => {
    const app = makeApp();
    app.register(reseolio, { storage: 'memory:' });
    app.register(reseolio, { storage: 'memory:' });
    await expect(app.ready()).rejects.toThrow('@reseolio/fastify has already been registered');
    await expect(app.ready()).rejects.toBeInstanceOf(IntegrationConfigError);
  });

  it('validates options at registration with messages that say what to do', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ storage: 'memory:', routes: {} }, /give routes\.authorize .* or set public: true/],
      [
        { storage: 'memory:', routes: { authorize: 'yes' } },
        /routes\.authorize must be a function/,
      ],
      [
        { storage: 'memory:', routes: { public: true, authorize: () => true } },
        /either routes\.authorize or public: true/,
      ],
      [{ storage: 'memory:', routes: { public: true, prefix: 'jobs' } }, /routes\.prefix must be/],
      [{ storage: 'memory:', routes: { public: true, waitMaxMs: -1 } }, /waitMaxMs must be/],
      [{ storage: 'memory:', stopTimeoutMs: 1.5 }, /stopTimeoutMs must be/],
      [{ storage: 'memory:', stopInstance: true }, /stopInstance only applies with instance/],
      [{ instance: {} }, /instance must be a Reseolio engine/],
      [{ instance: new Reseolio({ storage: 'memory:' }), stopInstance: 'yes' }, /true or false/],
      [
        { instance: new Reseolio({ storage: 'memory:' }), stopInstance: true, closeInstance: true },
        /give stopInstance only; closeInstance is its deprecated name/,
      ],
      [
        { storage: 'memory:', routes: { public: true, prefx: '/x' } },
        /Unknown routes option "prefx"/,
      ],
      [
        { instance: new Reseolio({ storage: 'memory:' }), storage: 'memory:' },
        /either instance or engine options/,
      ],
      [{ storage: 'memory:', prefix: '/x' }, /routes: \{ prefix \}/],
      [{ storage: 'memory:', workerConcurency: 2 }, /workerConcurency/],
      // Without the job routes there is no authorize to share.
      [{ storage: 'memory:', metrics: true }, /give metrics\.authorize .* or set public: true/],
      [{ storage: 'memory:', metrics: { public: true, path: 'm' } }, /metrics\.path must be/],
    ];
    for (const [options, message] of cases) {
      const app = makeApp();
      app.register(reseolioPlugin as never, options);
      const error = await Promise.resolve(app.ready()).catch((e: unknown) => e);
      expect(error, String(message)).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(message);
      // Every option mistake of the plugin itself is the one integration error type.
      if (!/workerConcurency/.test(String(message))) {
        expect(error).toBeInstanceOf(IntegrationConfigError);
        expect(error).toMatchObject({ code: 'RESEOLIO_INVALID_OPTION' });
      }
    }
  });

  it('refuses storage given as undefined (an unset env variable) instead of using ./reseolio.db', async () => {
    const app = makeApp();
    app.register(reseolio, { storage: undefined as unknown as string });
    await expect(app.ready()).rejects.toBeInstanceOf(StorageConfigError);
    await expect(app.ready()).rejects.toThrow('unset environment variable');
  });

  it('bounds stopTimeoutMs to the longest timer, and takes undefined options as left out', async () => {
    const tooLong = makeApp();
    tooLong.register(reseolio, { storage: 'memory:', stopTimeoutMs: 2 ** 31 });
    await expect(tooLong.ready()).rejects.toThrow(
      'stopTimeoutMs must be an integer number of milliseconds from 0 to 2147483647',
    );
    const app = makeApp();
    await app.register(reseolio, {
      storage: 'memory:',
      stopTimeoutMs: undefined,
      routes: undefined,
      logger: undefined,
      instance: undefined,
      stopInstance: undefined,
      closeInstance: undefined,
    });
    const borrowed = new Reseolio({ storage: 'memory:' });
    const withInstance = makeApp();
    await withInstance.register(reseolio, {
      instance: borrowed,
      storage: undefined,
      stopInstance: undefined,
      closeInstance: undefined,
    });
    await withInstance.ready();
    expect(withInstance.reseolio).toBe(borrowed);
    await withInstance.close();
    await borrowed.stop();
  });

  it('leaves a borrowed instance running on close unless stopInstance is set', async () => {
    const borrowed = new Reseolio({ storage: 'memory:', ...fast });
    const app = makeApp();
    await app.register(reseolio, { instance: borrowed });
    await app.ready();
    expect(app.reseolio).toBe(borrowed);
    await app.close();
    expect(borrowed.state).toBe('started');
    await borrowed.stop();

    const owned = new Reseolio({ storage: 'memory:', ...fast });
    const closing = makeApp();
    await closing.register(reseolio, { instance: owned, stopInstance: true });
    await closing.ready();
    await closing.close();
    expect(owned.state).toBe('stopped');
  });

  it('still takes the deprecated closeInstance as stopInstance, with a DeprecationWarning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    onTestFinished(() => warn.mockRestore());
    const borrowed = new Reseolio({ storage: 'memory:', ...fast });
    const app = makeApp();
    await app.register(reseolio, { instance: borrowed, closeInstance: true });
    await app.ready();
    await app.close();
    expect(borrowed.state).toBe('stopped');
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/closeInstance is deprecated.*stopInstance/),
      {
        type: 'DeprecationWarning',
        code: 'RESEOLIO_DEP_CLOSE_INSTANCE',
      },
    );
  });

  it('drains a borrowed instance with stopInstance for up to stopTimeoutMs, then hands the job back', async () => {
    const storage = sqliteUrl();
    const borrowed = new Reseolio({ storage, ...fast });
    const started = gate();
    const never = borrowed.durable('never', async () => {
      started.open();
      await new Promise(() => {});
    });
    const app = makeApp();
    await app.register(reseolio, { instance: borrowed, stopInstance: true, stopTimeoutMs: 50 });
    await app.ready();
    const handle = await never();
    await started.promise;
    await app.close();
    expect(borrowed.state).toBe('stopped');
    // Handed back at the deadline: pending again, its attempt not consumed.
    const reader = new Reseolio({ storage, workerConcurrency: 0 });
    try {
      expect(await reader.getHandle(handle.jobId).details()).toMatchObject({
        status: 'pending',
        attempt: 0,
      });
    } finally {
      await reader.stop();
    }
  });

  it('serves public metrics without the job routes', async () => {
    const app = makeApp();
    await app.register(reseolio, { storage: 'memory:', metrics: { public: true } });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('# TYPE reseolio_jobs gauge');
    expect((await app.inject({ method: 'GET', url: '/jobs' })).statusCode).toBe(404);
    await app.close();
  });

  it('logs through the Fastify logger, with the job as fields of a line about one', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const app = makeApp({ logger: { level: 'info', stream } });
    await app.register(reseolio, { storage: 'memory:', ...fast });
    app.reseolio.on('job:success', () => {
      throw new Error('listener bug');
    });
    const noop = app.reseolio.durable('noop', async () => {});
    await app.ready();
    const handle = await noop();
    await handle.result(5000);
    const msg = `job ${handle.jobId} (noop) attempt 1: a "job:success" listener threw`;
    await waitFor(() => lines.some((line) => line.msg === msg));
    const line = lines.find((l) => l.msg === msg)!;
    expect(line).toMatchObject({
      level: 50,
      plugin: '@reseolio/fastify',
      jobId: handle.jobId,
      jobName: 'noop',
      attempt: 1,
      err: { message: 'listener bug' },
    });
  });
});
