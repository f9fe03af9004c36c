import { expect, it } from 'vitest';
import { UNSERVED_UNDER_PREFIX } from '../fixtures.ts';
import type { SuiteContext } from '../run-http-conformance.ts';

export function mountingSuite({ serve }: SuiteContext): void {
  it('serves public routes without authorize, under a custom prefix only', async () => {
    const { call, echo } = await serve({ public: true }, { prefix: '/admin/jobs' });
    const handle = await echo(1);
    await handle.result(5000);
    expect((await call('GET', `/admin/jobs/${handle.jobId}`)).body.job.status).toBe('success');
    expect((await call('GET', '/admin/jobs')).body.jobs).toHaveLength(1);
    expect((await call('GET', `/jobs/${handle.jobId}`)).status).toBe(404);
  });

  it('leaves paths and methods it does not serve to the app, without calling authorize', async () => {
    let asked = 0;
    const { call } = await serve({
      authorize: () => {
        asked += 1;
        return false;
      },
    });
    for (const [method, path] of [...UNSERVED_UNDER_PREFIX, ['GET', '/not-a-job-route']]) {
      expect((await call(method, path)).status, `${method} ${path}`).toBe(404);
    }
    expect(asked).toBe(0);
    expect((await call('GET', '/jobs/abc')).status).toBe(403);
    expect(asked).toBe(1);
  });
}
