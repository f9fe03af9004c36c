import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresStorage } from '@reseolio/storage-postgres';
import { createSqliteStorage } from '@reseolio/storage-sqlite';
import type {} from '@reseolio/test-utils/postgres-global-setup';
import pg from 'pg';
import { Reseolio, type ReseolioOptions, type StorageAdapter } from 'reseolio';
import { inject, onTestFinished } from 'vitest';
import { createDashboard, type DashboardOptions } from '../src/index.ts';

/** The mount point the tests serve the dashboard under, to prove it needs no fixed path. */
export const PREFIX = '/admin/dash';

/** One storage the browser suite runs on. */
export interface Target {
  name: 'sqlite' | 'postgres';
  adapter(): StorageAdapter;
}

/** A SQLite file of its own in a temp folder, removed after the test. */
export function sqliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), 'reseolio-dashboard-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const filename = join(dir, 'jobs.db');
  return { name: 'sqlite', adapter: () => createSqliteStorage({ filename }) };
}

/**
 * A PostgreSQL schema of its own on `DATABASE_URL` (else the throw-away server of the shared
 * global setup), named from the test, dropped before and after it.
 */
export async function postgresTarget(testName: string): Promise<Target> {
  const url = inject('databaseUrl');
  const schema = `dash_${createHash('sha1').update(testName).digest('hex').slice(0, 20)}`;
  const drop = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  };
  await drop();
  onTestFinished(drop);
  return {
    name: 'postgres',
    adapter: () => createPostgresStorage({ connectionString: url, schema, poolSize: 4 }),
  };
}

/** An engine on the target, stopped (and its adapter closed) after the test. */
export async function engineOn(
  target: Target,
  options: Omit<ReseolioOptions, 'storage'> = {},
): Promise<Reseolio> {
  const storage = target.adapter();
  const engine = new Reseolio({ workerConcurrency: 0, ...options, storage });
  onTestFinished(async () => {
    await engine.stop();
    await storage.close();
  });
  return engine;
}

export interface Served {
  /** `http://127.0.0.1:<port>/admin/dash/`: the page's URL. */
  url: string;
  origin: string;
}

/**
 * Serves a dashboard from a plain `node:http` server under {@link PREFIX}, as a framework
 * mount does: everything below the prefix goes to `handle` with the path relative to it.
 */
export async function serve(options: DashboardOptions): Promise<Served> {
  const dashboard = createDashboard(options);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === PREFIX || url.startsWith(`${PREFIX}/`) || url.startsWith(`${PREFIX}?`)) {
      void dashboard.handle(req, res, url.slice(PREFIX.length) || '/');
      return;
    }
    res.writeHead(404).end('not the dashboard');
  });
  const origin = await listenUntilTestEnds(server);
  return { url: `${origin}${PREFIX}/`, origin };
}

export interface RawAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
  text: string;
  json: any;
}

/**
 * One request with the path sent exactly as written (`fetch` would resolve `..`), so the
 * path-traversal tests reach the server as an attacker's client sends them.
 */
export function raw(
  origin: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(origin);
    // An options object, not a URL string: a URL would be normalized (`..` resolved).
    const req = request(
      { hostname, port, path, method: init.method ?? 'GET', headers: init.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * A reverse proxy that serves `upstreamPath` (the dashboard's mount) under another prefix,
 * `/ops/jobs-ui/`, as nginx with `proxy_pass http://app/admin/dash/;` does: the dashboard
 * never learns the outside prefix, so only relative URLs can work.
 */
export async function proxy(upstream: Served, outside = '/ops/jobs-ui'): Promise<Served> {
  const target = new URL(upstream.url);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith(outside)) {
      res.writeHead(404).end('not proxied');
      return;
    }
    // `/ops/jobs-ui` (no final slash) goes to `/admin/dash`, and so on below it.
    const rest = url.slice(outside.length).replace(/^\//, '');
    const base =
      url === outside || url.startsWith(`${outside}?`)
        ? target.pathname.slice(0, -1)
        : target.pathname;
    const forwarded = request(
      {
        hostname: target.hostname,
        port: target.port,
        path: `${base}${rest}`,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  const origin = await listenUntilTestEnds(server);
  return { url: `${origin}${outside}/`, origin };
}

/** Listens on a free loopback port, closed (connections too) when the test ends; its origin. */
async function listenUntilTestEnds(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
