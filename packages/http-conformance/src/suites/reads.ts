import { waitFor } from '@reseolio/test-utils';
import { expect, it } from 'vitest';
import { ADMIN, adminOnly } from '../fixtures.ts';
import type { SuiteContext } from '../run-http-conformance.ts';

export function readsSuite({ serve }: SuiteContext): void {
  it('gets and lists jobs as JSON for an authorised caller', async () => {
    const { call, echo } = await serve(adminOnly);
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
    expect(all.body.offset).toBe(0);
    expect(all.body.jobs).toHaveLength(1);
    const next = await call('GET', '/jobs?status=success&name=echo&limit=1&offset=1', ADMIN);
    const ids = [...all.body.jobs, ...next.body.jobs].map((j: { id: string }) => j.id);
    expect(ids.sort()).toEqual([first.jobId, second.jobId].sort());
    expect((await call('GET', '/jobs?status=dead', ADMIN)).body.jobs).toEqual([]);
    expect((await call('GET', '/jobs', ADMIN)).body).toMatchObject({ limit: 100, offset: 0 });
  });

  it('answers 202 while a job runs, waits for the result, and caps waitMs at waitMaxMs', async () => {
    const { call, held, hold } = await serve({ ...adminOnly, waitMaxMs: 200 });
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

    const waiting = call('GET', `/jobs/${handle.jobId}/result?waitMs=5000`, ADMIN);
    hold.open();
    expect(await waiting).toEqual({
      status: 200,
      body: { jobId: handle.jobId, status: 'success', result: 'released' },
    });
  });
}
