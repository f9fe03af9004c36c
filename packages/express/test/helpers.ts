import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import expressV4 from 'express-v4';
import expressV5 from 'express-v5';
import { Reseolio, type ReseolioOptions } from 'reseolio';
import { afterEach } from 'vitest';

/** Every test that boots an app runs once per Express major. */
export const EXPRESS_VERSIONS = [
  { major: 4, express: expressV4 },
  { major: 5, express: expressV5 },
] as const;

const engines: Reseolio[] = [];
const servers: Server[] = [];
const dirs: string[] = [];

/** Fast engine options for tests: quick polling and retries. */
export const fast = { pollIntervalMs: 50, defaults: { initialDelayMs: 5, jitter: 0 } } as const;

/** An engine (in memory unless `storage` says otherwise) stopped after the test. */
export function makeEngine(options: ReseolioOptions = {}): Reseolio {
  const engine = new Reseolio({ storage: 'memory:', ...fast, ...options });
  engines.push(engine);
  return engine;
}

/** A `sqlite:` URL on a fresh file in a temporary directory removed after the test. */
export function sqliteUrl(): string {
  const dir = mkdtempSync(join(tmpdir(), 'reseolio-express-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'jobs.db')}`;
}

/** `app.listen(0, '127.0.0.1')`, resolved once listening, closed after the test. */
export async function serve(app: Express): Promise<{ server: Server; base: string }> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { server, base: `http://127.0.0.1:${address.port}` };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await Promise.all(engines.splice(0).map((engine) => engine.stop({ timeoutMs: 100 })));
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

/** `fetch` that returns the status and parsed JSON body (or the text when not JSON). */
export async function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, body: parsed };
}

export { waitFor } from '@reseolio/test-utils';
