import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { afterEach } from 'vitest';

const apps: FastifyInstance[] = [];
const dirs: string[] = [];

/** A Fastify app closed after the test. */
export function makeApp(options: FastifyServerOptions = {}): FastifyInstance {
  const app = Fastify(options);
  apps.push(app);
  return app;
}

/** A `sqlite:` URL on a fresh file in a temporary directory removed after the test. */
export function sqliteUrl(): string {
  const dir = mkdtempSync(join(tmpdir(), 'reseolio-fastify-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'jobs.db')}`;
}

/** Listens on an ephemeral port of 127.0.0.1 and returns the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** Fast engine options for tests: quick polling and retries. */
export const fast = { pollIntervalMs: 50, defaults: { initialDelayMs: 5, jitter: 0 } } as const;

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A promise with its resolver, to hold a job open until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export { waitFor } from '@reseolio/test-utils';
