import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach } from 'vitest';

export type HttpAdapterName = 'express' | 'fastify';

const open = new Set<INestApplication>();
const dirs: string[] = [];

/** Compiles a testing module, listens on an ephemeral port and returns the app and its URL. */
export async function startApp(
  metadata: ModuleMetadata,
  adapter: HttpAdapterName = 'express',
): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter())
      : moduleRef.createNestApplication();
  open.add(app);
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

/** Closes an app started by `startApp` (the leak guard below closes the rest). */
export async function closeApp(app: INestApplication): Promise<void> {
  open.delete(app);
  await app.close();
}

/** Keeps track of an app (or application context) that a test creates itself. */
export function track(app: INestApplication): INestApplication {
  open.add(app);
  return app;
}

afterEach(async () => {
  const leaked = [...open];
  open.clear();
  await Promise.all(leaked.map((app) => app.close()));
});

/** A `sqlite:` URL for a fresh file in a temporary directory. */
export function tmpSqliteUrl(): string {
  const dir = mkdtempSync(join(tmpdir(), 'reseolio-nestjs-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'jobs.db')}`;
}

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** fetch + JSON body; throws on a non-2xx status so failures show the server's answer. */
export async function http<T = unknown>(
  url: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url} → ${response.status}: ${text}`);
  return (text.length > 0 ? JSON.parse(text) : undefined) as T;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export { waitFor } from '@reseolio/test-utils';
