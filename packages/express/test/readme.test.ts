import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { start } from '../examples/basic.ts';
import { call, sqliteUrl } from './helpers.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const example = readFileSync(new URL('../examples/basic.ts', import.meta.url), 'utf8');

describe('README', () => {
  it('shows examples/basic.ts verbatim as its first ts block', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(example);
  });

  it('runs the example: sign-up enqueues the email job, the router serves its result', async () => {
    let shutDown = false;
    const { server, shutdown } = await start({
      storage: sqliteUrl(),
      adminToken: 's3cret',
      port: 0,
      host: '127.0.0.1',
      onShutdown: () => {
        shutDown = true;
      },
    });
    try {
      await once(server, 'listening');
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const signup = await call(base, 'POST', '/signup', {}, { email: 'ada@example.com' });
      expect(signup.status).toBe(202);
      const { jobId } = signup.body;

      expect((await call(base, 'GET', `/jobs/${jobId}`)).status).toBe(403);
      expect(
        await call(base, 'GET', `/jobs/${jobId}/result?waitMs=5000`, {
          authorization: 'Bearer s3cret',
        }),
      ).toEqual({
        status: 200,
        body: { jobId, status: 'success', result: { sentTo: 'ada@example.com' } },
      });
    } finally {
      await shutdown.shutdown();
    }
    expect(shutDown).toBe(true);
    expect(server.listening).toBe(false);
  });
});
