import { UNSERVED_UNDER_PREFIX } from '@reseolio/http-conformance';
import type { NextFunction, Request, Response } from 'express';
import { MemoryStorage, StorageError } from 'reseolio';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { IntegrationConfigError, reseolioMetricsRouter, reseolioRouter } from '../src/index.ts';
import { call, EXPRESS_VERSIONS, makeEngine, serve } from './helpers.ts';

// The job routes' behaviour on every framework is test/conformance.test.ts (the shared
// suite); these are what only the Express router does: mounting, next(), its logger.

/** In-memory storage whose reads fail the way a broken database does. */
class FailingStorage extends MemoryStorage {
  readonly failure = new StorageError('getJob failed with SQLITE_IOERR_READ.', {
    operation: 'getJob',
    driverCode: 'SQLITE_IOERR_READ',
  });

  override async listJobs(): Promise<never> {
    throw this.failure;
  }
}

describe.each(EXPRESS_VERSIONS)('job router on Express $major', ({ express }) => {
  it('passes paths and methods it does not serve to the next handler', async () => {
    const engine = makeEngine();
    const app = express();
    app.use('/jobs', reseolioRouter({ instance: engine, authorize: () => false }));
    // app.use matches every method and sub-path on both majors.
    app.use('/jobs', (req, res) => {
      res.json({ fellThrough: `${req.method} ${req.originalUrl}` });
    });
    const { base } = await serve(app);
    for (const [method, path] of UNSERVED_UNDER_PREFIX) {
      expect(await call(base, method, path)).toEqual({
        status: 200,
        body: { fellThrough: `${method} ${path}` },
      });
    }
    expect((await call(base, 'GET', '/jobs/abc')).status).toBe(403);
  });

  it('answers a long unknown id with 404 and a shortened message', async () => {
    const app = express();
    app.use('/jobs', reseolioRouter({ instance: makeEngine(), public: true }));
    const { base } = await serve(app);
    const long = await call(base, 'GET', `/jobs/${'x'.repeat(5000)}`);
    expect(long.status).toBe(404);
    expect(long.body.error.message).toContain('(5000 characters)');
    expect(long.body.error.message.length).toBeLessThan(300);
  });

  it('logs to the console by default, and never reaches the app error handler for a 503', async () => {
    const storage = new FailingStorage();
    const engine = makeEngine({ storage });
    await engine.start();
    const app = express();
    app.use('/jobs', reseolioRouter({ instance: engine, public: true }));
    const reachedNext: unknown[] = [];
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      reachedNext.push(error);
      res.status(500).json({ fromApp: true });
    });
    const { base } = await serve(app);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    onTestFinished(() => logged.mockRestore());
    expect((await call(base, 'GET', '/jobs')).status).toBe(503);
    expect(reachedNext).toEqual([]);
    expect(logged).toHaveBeenCalledWith(
      '[@reseolio/express] the job storage failed; answering 503',
      storage.failure,
    );
  });
});

describe.each(EXPRESS_VERSIONS)('metrics router on Express $major', ({ express }) => {
  it('answers GET on its mount point only and passes the rest to the next handler', async () => {
    const engine = makeEngine();
    const app = express();
    app.use('/metrics', reseolioMetricsRouter({ instance: engine, public: true }));
    app.use('/metrics', (req, res) => {
      res.json({ fellThrough: `${req.method} ${req.originalUrl}` });
    });
    const { base } = await serve(app);
    const scrape = await call(base, 'GET', '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.body).toContain('# TYPE reseolio_jobs_enqueued_total counter');
    for (const [method, path] of [
      ['POST', '/metrics'],
      ['GET', '/metrics/extra'],
    ] as const) {
      expect(await call(base, method, path)).toEqual({
        status: 200,
        body: { fellThrough: `${method} ${path}` },
      });
    }
  });

  it('validates its options when it is made', () => {
    const engine = makeEngine();
    for (const [options, message] of [
      [{ instance: engine }, /give reseolioMetricsRouter options\.authorize .* or set public/],
      [{ instance: engine, public: true, path: '/m' }, /takes no path/],
      [{ public: true }, /needs the engine/],
    ] as const) {
      expect(() => reseolioMetricsRouter(options as never)).toThrow(IntegrationConfigError);
      expect(() => reseolioMetricsRouter(options as never)).toThrow(message);
    }
  });
});
