import type { ErrorRequestHandler } from 'express';
import { MemoryStorage, Reseolio } from 'reseolio';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  attachShutdown,
  IntegrationConfigError,
  reseolioMiddleware,
  reseolioRouter,
  wrapAsync,
} from '../src/index.ts';
import { call, EXPRESS_VERSIONS, gate, makeEngine, serve, sqliteUrl, waitFor } from './helpers.ts';

const ADMIN = { authorization: 'Bearer admin' };
const adminOnly = {
  authorize: (req: { headers: Record<string, unknown> }) =>
    req.headers.authorization === 'Bearer admin',
};

/** Sends `{ handled: message }` with the error's status, so tests see what reached it. */
const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  res.status(err.status ?? 500).json({ handled: err.message, code: err.code });
};

describe.each(EXPRESS_VERSIONS)('Express $major', ({ express }) => {
  it('runs a job enqueued by a route and serves its result through the router (SQLite file)', async () => {
    const engine = makeEngine({ storage: sqliteUrl() });
    const double = engine.durable('math:double', async (n: number) => ({ doubled: n * 2 }));
    await engine.start();
    const app = express();
    app.use(express.json());
    app.use(reseolioMiddleware({ instance: engine }));
    app.use('/jobs', reseolioRouter({ instance: engine, ...adminOnly }));
    app.post(
      '/double',
      wrapAsync(async (req, res) => {
        expect(req.reseolio).toBe(engine);
        const handle = await double(req.body.n);
        res.status(202).json({ jobId: handle.jobId });
      }),
    );
    const { base } = await serve(app);

    const enqueued = await call(base, 'POST', '/double', {}, { n: 21 });
    expect(enqueued.status).toBe(202);
    const { jobId } = enqueued.body;
    expect(await call(base, 'GET', `/jobs/${jobId}/result?waitMs=5000`, ADMIN)).toEqual({
      status: 200,
      body: { jobId, status: 'success', result: { doubled: 42 } },
    });
  });

  it('shutdown() lets a running job finish, closes the server and leaves nothing running (SQLite file)', async () => {
    const storage = sqliteUrl();
    const engine = new Reseolio({ storage, pollIntervalMs: 50 });
    const release = gate();
    let finished = false;
    const slow = engine.durable('slow', async () => {
      await release.promise;
      finished = true;
      return 'done';
    });
    await engine.start();
    const app = express();
    app.post(
      '/slow',
      wrapAsync(async (_req, res) => {
        res.json({ jobId: (await slow()).jobId });
      }),
    );
    const { server, base } = await serve(app);
    const shutdowns: unknown[] = [];
    const controller = attachShutdown(server, {
      instance: engine,
      stopInstance: true,
      stopTimeoutMs: 5000,
      onShutdown: (info) => {
        shutdowns.push(info);
      },
    });
    const { jobId } = (await call(base, 'POST', '/slow')).body;
    const handle = engine.getHandle(jobId);
    await waitFor(async () => (await handle.status()) === 'running');

    const done = controller.shutdown();
    setTimeout(release.open, 100);
    await done;

    expect(finished).toBe(true);
    expect(engine.state).toBe('stopped');
    expect(server.listening).toBe(false);
    expect(shutdowns).toEqual([{ signal: undefined, error: undefined }]);
    expect(controller.shutdown()).toBe(done);
    const reader = new Reseolio({ storage, workerConcurrency: 0 });
    try {
      expect(await reader.listJobs({ status: 'running' })).toEqual([]);
      expect(await reader.getHandle(jobId).status()).toBe('success');
    } finally {
      await reader.stop();
    }
  });

  it('routes async errors to the error handler, from the app and from the router', async () => {
    const storage = new MemoryStorage();
    storage.listJobs = async () => {
      throw new Error('disk on fire');
    };
    const engine = makeEngine({ storage });
    const app = express();
    app.get(
      '/boom',
      wrapAsync(async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        throw Object.assign(new Error('async boom'), { status: 418 });
      }),
    );
    app.use('/jobs', reseolioRouter({ instance: engine, public: true }));
    app.use(errorHandler);
    const { base } = await serve(app);
    expect(await call(base, 'GET', '/boom')).toEqual({
      status: 418,
      body: { handled: 'async boom' },
    });
    expect(await call(base, 'GET', '/jobs')).toEqual({
      status: 500,
      body: { handled: 'disk on fire' },
    });
  });

  it('attaches req.reseolio once and answers 503 while the engine is stopped unless optional', async () => {
    const engine = makeEngine();
    const other = makeEngine();
    const app = express();
    app.use(reseolioMiddleware({ instance: engine }));
    app.use('/strict', reseolioMiddleware({ instance: other }));
    app.use('/optional', reseolioMiddleware({ instance: other, optional: true }));
    app.get(['/strict', '/optional'], (req, res) => {
      res.json({ same: req.reseolio === engine, state: req.reseolio.state });
    });
    const stopped = makeEngine();
    await stopped.stop();
    const down = express();
    down.use('/strict', reseolioMiddleware({ instance: stopped }));
    down.use('/optional', reseolioMiddleware({ instance: stopped, optional: true }));
    down.get(['/strict', '/optional'], (req, res) => {
      res.json({ state: req.reseolio.state });
    });
    down.use(errorHandler);
    const up = await serve(app);
    const stoppedApp = await serve(down);

    expect((await call(up.base, 'GET', '/strict')).body).toEqual({ same: true, state: 'created' });
    expect(await call(stoppedApp.base, 'GET', '/strict')).toEqual({
      status: 503,
      body: {
        handled: expect.stringMatching(/Reseolio is stopped/),
        code: 'RESEOLIO_INVALID_STATE',
      },
    });
    expect(await call(stoppedApp.base, 'GET', '/optional')).toEqual({
      status: 200,
      body: { state: 'stopped' },
    });
  });
});

describe('validation when building the middleware, router and shutdown helper', () => {
  it('throws IntegrationConfigError synchronously with messages that say what to do', () => {
    const engine = makeEngine();
    const server = { close: () => {} };
    const cases: [() => unknown, RegExp][] = [
      [
        () => reseolioMiddleware(undefined as never),
        /options must be an object such as \{ instance: reseolio \}/,
      ],
      [
        () => reseolioMiddleware({} as never),
        /reseolioMiddleware needs the engine: pass \{ instance: reseolio \}/,
      ],
      [() => reseolioMiddleware({ instance: {} } as never), /instance must be a Reseolio engine/],
      [
        () => reseolioMiddleware({ instance: engine, optinal: true } as never),
        /Unknown reseolioMiddleware option "optinal"/,
      ],
      [
        () => reseolioRouter({ instance: engine }),
        /give reseolioRouter options\.authorize .* or set public: true/,
      ],
      [
        () => reseolioRouter({ instance: engine, public: true, authorize: () => true }),
        /either reseolioRouter options\.authorize or public: true/,
      ],
      [() => reseolioRouter({ instance: engine, public: true, waitMaxMs: 1.5 }), /waitMaxMs/],
      [
        () => reseolioRouter({ instance: engine, public: true, prefix: '/jobs' } as never),
        /takes no prefix: mount the routes/,
      ],
      [
        () => reseolioRouter({ instance: engine, public: true, logger: {} as never }),
        /logger must have error and warn/,
      ],
      [
        () => reseolioRouter({} as never, { public: true }),
        /first argument must be a Reseolio engine/,
      ],
      [
        () => reseolioRouter(engine, { instance: engine, public: true } as never),
        /give the engine once/,
      ],
      [() => attachShutdown({} as never, { instance: engine }), /server returned by app\.listen/],
      [() => attachShutdown(server, {} as never), /attachShutdown options need the engine/],
      [
        () => attachShutdown(server, { instance: engine, stopTimeoutMs: -1 }),
        /stopTimeoutMs must be/,
      ],
      [
        () => attachShutdown(server, { instance: engine, signals: 'SIGTERM' as never }),
        /signals must be an array/,
      ],
      [
        () => attachShutdown(server, { instance: engine, stopTimeoutMs: 1, timeoutMs: 1 } as never),
        /give stopTimeoutMs only; timeoutMs is its deprecated name/,
      ],
    ];
    for (const [build, message] of cases) {
      expect(build, String(message)).toThrow(message);
      expect(build).toThrow(IntegrationConfigError);
    }
  });

  it('bounds the shutdown timeout to the longest timer', () => {
    const engine = makeEngine();
    // setTimeout fires at once past 2147483647 ms: the drain would end before it began.
    expect(() =>
      attachShutdown({ close: () => {} }, { instance: engine, stopTimeoutMs: 2 ** 31 }),
    ).toThrow('stopTimeoutMs must be an integer number of milliseconds from 0 to 2147483647');
  });

  it('takes options set to undefined as left out', () => {
    const engine = makeEngine();
    const before = process.listenerCount('SIGTERM');
    const detach = attachShutdown(
      { close: () => {} },
      {
        instance: engine,
        stopInstance: undefined,
        signals: undefined,
        stopTimeoutMs: undefined,
        onShutdown: undefined,
      },
    );
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    detach();
    expect(() => reseolioMiddleware({ instance: engine, optional: undefined })).not.toThrow();
    expect(() =>
      reseolioRouter({
        instance: engine,
        public: true,
        authorize: undefined,
        waitMaxMs: undefined,
        logger: undefined,
      }),
    ).not.toThrow();
  });

  it('adds signal listeners and removes them on detach', () => {
    const engine = makeEngine();
    const before = process.listenerCount('SIGTERM');
    const detach = attachShutdown({ close: () => {} }, { instance: engine, signals: ['SIGTERM'] });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    detach();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});

describe('the deprecated engine-first form', () => {
  it('still works, warns once per call, and attachShutdown(server, engine) still stops the engine', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    onTestFinished(() => warn.mockRestore());
    const engine = makeEngine();
    await engine.start();
    expect(() => reseolioMiddleware(engine)).not.toThrow();
    expect(() => reseolioRouter(engine, { public: true })).not.toThrow();
    const server = { close: (done?: () => void) => done?.() };
    const shutdowns: unknown[] = [];
    const controller = attachShutdown(server, engine, {
      signals: [],
      timeoutMs: 100,
      onShutdown: (info) => {
        shutdowns.push(info);
      },
    });
    await controller.shutdown();
    expect(engine.state).toBe('stopped');
    expect(shutdowns).toEqual([{ signal: undefined, error: undefined }]);
    const codes = warn.mock.calls.map((args) => (args[1] as { code: string }).code);
    expect(codes).toEqual([
      'RESEOLIO_DEP_POSITIONAL_ENGINE',
      'RESEOLIO_DEP_POSITIONAL_ENGINE',
      'RESEOLIO_DEP_POSITIONAL_ENGINE',
      'RESEOLIO_DEP_TIMEOUT_MS',
    ]);
  });

  it('leaves a borrowed engine running when stopInstance is not set', async () => {
    const engine = makeEngine();
    await engine.start();
    const server = { close: (done?: () => void) => done?.() };
    const controller = attachShutdown(server, {
      instance: engine,
      signals: [],
      onShutdown: () => {},
    });
    await controller.shutdown();
    expect(engine.state).toBe('started');
  });
});
