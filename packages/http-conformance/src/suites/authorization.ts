import { expect, it } from 'vitest';
import { ADMIN, adminOnly, logged, UNKNOWN_ID } from '../fixtures.ts';
import type { SuiteContext } from '../run-http-conformance.ts';

export function authorizationSuite({ serve }: SuiteContext): void {
  it('refuses unauthorised callers with 401/403 before reading the request, and shows no job data', async () => {
    const { call, echo, logs } = await serve(adminOnly);
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
      expect(anonymous, `${method} ${path}`).toEqual({
        status: 401,
        body: {
          error: { code: 'RESEOLIO_UNAUTHENTICATED', message: 'Authentication is required.' },
        },
      });
      const wrong = await call(method, path, { authorization: 'Bearer guest' });
      expect(wrong, `${method} ${path}`).toEqual({
        status: 403,
        body: {
          error: { code: 'RESEOLIO_FORBIDDEN', message: 'You are not allowed to access jobs.' },
        },
      });
      expect(JSON.stringify([anonymous, wrong])).not.toMatch(/card-4242|echo|no credentials/);
    }
    expect(await handle.status()).toBe('success');
    // A 401 thrown on purpose is a refusal, not a failure: nothing to log.
    expect(logged(logs, 'error')).toEqual([]);
  });

  it('refuses when an async authorize resolves false, or anything but true', async () => {
    for (const answer of [false, 'yes', 1, undefined]) {
      const { call } = await serve({ authorize: async () => answer as boolean });
      expect((await call('GET', '/jobs', ADMIN)).status).toBe(403);
    }
  });

  it('answers 500 when authorize throws, logs the error through the framework logger, and sends none of it', async () => {
    const { call, logs } = await serve({
      authorize: () => {
        throw new Error('identity provider down at 10.0.0.7');
      },
    });
    for (const [method, path] of [
      ['GET', '/jobs'],
      ['GET', `/jobs/${UNKNOWN_ID}`],
      ['POST', `/jobs/${UNKNOWN_ID}/cancel`],
    ] as const) {
      const response = await call(method, path, ADMIN);
      expect(response).toEqual({
        status: 500,
        body: {
          error: {
            code: 'RESEOLIO_AUTHORIZE_FAILED',
            message: 'The request could not be authorized; the cause is in the server log.',
          },
        },
      });
    }
    expect(logged(logs, 'error', 'authorize threw', 'identity provider down')).toHaveLength(3);
  });
}
