import { STORAGE_UNAVAILABLE_MESSAGE } from 'reseolio/http';
import { expect, it } from 'vitest';
import { ADMIN, adminOnly, FailingStorage, logged, UNKNOWN_ID } from '../fixtures.ts';
import type { SuiteContext } from '../run-http-conformance.ts';

const EVERY_ROUTE: [string, string][] = [
  ['GET', '/jobs'],
  ['GET', `/jobs/${UNKNOWN_ID}`],
  ['GET', `/jobs/${UNKNOWN_ID}/result`],
  ['POST', `/jobs/${UNKNOWN_ID}/retry`],
  ['POST', `/jobs/${UNKNOWN_ID}/cancel`],
];

export function errorsSuite({ serve }: SuiteContext): void {
  it('answers 404 for an unknown job and 400 for a bad query, the same on every framework', async () => {
    const { call } = await serve(adminOnly);
    for (const [method, path] of EVERY_ROUTE.slice(1)) {
      expect(await call(method, path, ADMIN), path).toMatchObject({
        status: 404,
        body: { error: { code: 'RESEOLIO_JOB_NOT_FOUND' } },
      });
    }
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=abc',
      'limit=',
      'offset=-1',
      'offset=1.5',
      'status=sleeping',
      'status=dead&status=success',
      'offset=100000000000000000000', // past what PostgreSQL's bigint OFFSET takes
      'name=',
      'name=orders%00', // NUL: an error on PostgreSQL, no match on SQLite
    ]) {
      const response = await call('GET', `/jobs?${query}`, ADMIN);
      expect(response, query).toMatchObject({
        status: 400,
        body: { error: { code: 'RESEOLIO_INVALID_INPUT' } },
      });
    }
    for (const wait of ['-5', '1.5', 'soon']) {
      const response = await call('GET', `/jobs/${UNKNOWN_ID}/result?waitMs=${wait}`, ADMIN);
      expect(response, wait).toMatchObject({
        status: 400,
        body: { error: { code: 'RESEOLIO_INVALID_INPUT' } },
      });
    }
    // Some frameworks refuse a malformed path before any route runs; all answer 400.
    expect((await call('GET', '/jobs/%E0%A4%A', ADMIN)).status).toBe(400);
  });

  it('answers 503 RESEOLIO_STORAGE on every route when the database fails, without the driver message, and logs the error', async () => {
    const storage = new FailingStorage();
    const { call, logs } = await serve({ public: true }, { storage });
    for (const [method, path] of EVERY_ROUTE) {
      const response = await call(method, path);
      expect(response, path).toEqual({
        status: 503,
        body: { error: { code: 'RESEOLIO_STORAGE', message: STORAGE_UNAVAILABLE_MESSAGE } },
      });
      expect(JSON.stringify(response.body)).not.toMatch(/secret|SQLITE|I\/O/);
    }
    const lines = logged(logs, 'error', 'the job storage failed', 'SQLITE_IOERR_READ');
    expect(lines).toHaveLength(EVERY_ROUTE.length);
  });

  it('answers 503 RESEOLIO_INVALID_STATE once the engine has stopped', async () => {
    const { call, echo, engine } = await serve({ public: true });
    const handle = await echo(1);
    await handle.result(5000);
    await engine.stop();
    for (const [method, path] of EVERY_ROUTE) {
      const response = await call(method, path.replace(UNKNOWN_ID, handle.jobId));
      expect(response, path).toMatchObject({
        status: 503,
        body: { error: { code: 'RESEOLIO_INVALID_STATE' } },
      });
    }
  });
}
