import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../examples/basic.ts';
import { listen, sqliteUrl } from './helpers.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const example = readFileSync(new URL('../examples/basic.ts', import.meta.url), 'utf8');

describe('README', () => {
  it('shows examples/basic.ts verbatim as its first ts block', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(example);
  });

  it('runs the example: sign-up enqueues the email job, the job routes serve its result', async () => {
    const app = await buildApp({ storage: sqliteUrl(), adminToken: 's3cret' });
    try {
      // The example logs to stdout; keep test output readable.
      app.log.level = 'silent';
      const base = await listen(app);
      const signup = await fetch(`${base}/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ada@example.com' }),
      });
      expect(signup.status).toBe(202);
      const { jobId } = (await signup.json()) as { jobId: string };

      expect((await fetch(`${base}/jobs/${jobId}`)).status).toBe(403);
      const result = await fetch(`${base}/jobs/${jobId}/result?waitMs=5000`, {
        headers: { authorization: 'Bearer s3cret' },
      });
      expect(await result.json()).toEqual({
        jobId,
        status: 'success',
        result: { sentTo: 'ada@example.com' },
      });
    } finally {
      await app.close();
    }
  });
});
