import { waitFor } from '@reseolio/test-utils';
import { expect, it } from 'vitest';
import { ADMIN, adminOnly } from '../fixtures.ts';
import type { SuiteContext } from '../run-http-conformance.ts';

export function actionsSuite({ serve }: SuiteContext): void {
  it('retries a dead job and cancels a pending one; 409 when the state does not allow it', async () => {
    const { call, failing, echo, attempts } = await serve(adminOnly);
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
      body: { status: 'cancelled', error: { code: 'RESEOLIO_JOB_CANCELLED' }, jobError: null },
    });

    const done = await echo('x');
    await done.result(5000);
    expect(await call('POST', `/jobs/${done.jobId}/retry`, ADMIN)).toMatchObject({
      status: 409,
      body: { error: { code: 'RESEOLIO_JOB_NOT_RETRYABLE' } },
    });
  });
}
