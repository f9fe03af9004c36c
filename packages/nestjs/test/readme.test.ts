import { readdirSync, readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import type { JobJSON } from 'reseolio';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as AppModuleExample from '../examples/app.module.ts';
import type * as MainExample from '../examples/main.ts';
import { closeApp, http, startApp, tmpSqliteUrl, track, waitFor } from './helpers.ts';

const examplesDir = new URL('../examples/', import.meta.url);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

let example: typeof AppModuleExample;
let main: typeof MainExample;

beforeAll(async () => {
  // The example reads its storage URL at import time.
  process.env.RESEOLIO_STORAGE = tmpSqliteUrl();
  process.env.ADMIN_TOKEN = 's3cret';
  example = await import('../examples/app.module.ts');
  main = await import('../examples/main.ts');
});

describe('README', () => {
  it('shows every example file verbatim in a ts code block', () => {
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
    const files = readdirSync(examplesDir).filter((file) => file.endsWith('.ts'));
    expect(files.sort()).toEqual(['app.module.ts', 'main.ts']);
    for (const file of files) {
      const source = readFileSync(new URL(file, examplesDir), 'utf8');
      expect(blocks, `README block for examples/${file}`).toContain(source);
    }
  });

  it('runs the example module: start a charge, dedupe it by key, read it, charge and wait', async () => {
    const { app, url } = await startApp({ imports: [example.AppModule] });
    const first = await http<{ jobId: string }>(`${url}/orders/o1/charge`, { method: 'POST' });
    const again = await http<{ jobId: string }>(`${url}/orders/o1/charge`, { method: 'POST' });
    expect(again.jobId).toBe(first.jobId);
    await waitFor(
      async () => (await http<JobJSON>(`${url}/orders/jobs/${first.jobId}`)).status === 'success',
    );
    expect(await http<JobJSON>(`${url}/orders/jobs/${first.jobId}`)).toMatchObject({
      name: 'payments:charge',
      result: { orderId: 'o1', chargeId: 'ch_o1' },
      maxAttempts: 5,
    });
    expect(await http(`${url}/orders/o2/charge-and-wait`, { method: 'POST' })).toEqual({
      orderId: 'o2',
      chargeId: 'ch_o2',
    });
    // The job routes of the module, behind the example's authorize.
    expect((await fetch(`${url}/jobs/${first.jobId}`)).status).toBe(403);
    const job = await fetch(`${url}/jobs/${first.jobId}`, {
      headers: { authorization: 'Bearer s3cret' },
    });
    expect(await job.json()).toMatchObject({ job: { id: first.jobId, status: 'success' } });
    await closeApp(app);
  });

  it('boots the example main.ts with NestFactory', async () => {
    const app: INestApplication = track(await main.bootstrap(0));
    const url = await app.getUrl();
    expect(await http(`${url}/orders/o3/charge-and-wait`, { method: 'POST' })).toEqual({
      orderId: 'o3',
      chargeId: 'ch_o3',
    });
    await closeApp(app);
  });
});
