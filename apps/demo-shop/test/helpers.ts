// Types inject('databaseUrl'), provided by the shared global setup.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@reseolio/test-utils';
import type {} from '@reseolio/test-utils/postgres-global-setup';
import { afterEach, inject } from 'vitest';
import { freshPostgresDatabase } from '../scripts/crash-drill.ts';
import { buildApp, type ShopApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { type Faults, NO_FAULTS } from '../src/services/faults.ts';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/** A fresh SQLite file, removed after the test. */
export function tempSqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'demo-shop-test-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'shop.db');
}

/** A fresh database on the test PostgreSQL server, dropped after the test. */
export async function tempPostgresUrl(serverUrl: string): Promise<string> {
  const database = await freshPostgresDatabase(serverUrl);
  onCleanup(() => database.drop());
  return database.url!;
}

/** Where a test's database lives: a `DATABASE_URL` for PostgreSQL, else a SQLite file. */
export type DatabaseChoice = { databaseUrl?: string; sqliteFile?: string };

/**
 * Both databases the shop runs on, for `describe.each`: each gives a fresh, empty database
 * per call (removed after the test), so a suite written once runs on SQLite and PostgreSQL.
 */
export const DATABASES: {
  name: string;
  dialect: 'sqlite' | 'postgres';
  fresh: () => Promise<DatabaseChoice>;
}[] = [
  { name: 'SQLite', dialect: 'sqlite', fresh: async () => ({ sqliteFile: tempSqliteFile() }) },
  {
    name: 'PostgreSQL',
    dialect: 'postgres',
    fresh: async () => ({ databaseUrl: await tempPostgresUrl(inject('databaseUrl')) }),
  },
];

export interface TestShop extends ShopApp {
  base: string;
  request<T = any>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
}

/**
 * The real shop on a real database, listening on a free port (webhooks go to its own
 * receiver over HTTP). Fake services start without faults unless the test asks for some.
 */
export async function startShop(
  options: DatabaseChoice & {
    faults?: Partial<Faults>;
    leaseMs?: number;
    /** How long deliveries wait for the customer; the config's 2 minutes unless a test says. */
    deliveryAutoConfirmMs?: number;
  } = {},
): Promise<TestShop> {
  const config = {
    ...loadConfig({}),
    port: 0,
    databaseUrl: options.databaseUrl,
    sqliteFile: options.sqliteFile ?? tempSqliteFile(),
    leaseMs: options.leaseMs ?? 30_000,
    ...(options.deliveryAutoConfirmMs === undefined
      ? {}
      : { deliveryAutoConfirmMs: options.deliveryAutoConfirmMs }),
    faults: { ...NO_FAULTS, ...options.faults },
  };
  const shop = await buildApp(config);
  onCleanup(() => shop.close());
  await shop.app.listen({ port: 0, host: '127.0.0.1' });
  const address = shop.app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    ...shop,
    base,
    async request(method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

/** Waits until the order is fulfilled or cancelled and returns it with its steps. */
export async function settledOrder(shop: TestShop, orderId: string, timeoutMs = 20_000) {
  return waitFor(async () => {
    const { body } = await shop.request('GET', `/api/orders/${orderId}`);
    return body.status === 'fulfilled' || body.status === 'cancelled' ? body : undefined;
  }, timeoutMs);
}

/** Places an order of one tee with the card the demo always declines; the settled order. */
export async function declinedCheckout(shop: TestShop) {
  const placed = await shop.request('POST', '/api/orders', {
    productId: 'tee',
    quantity: 1,
    card: '4000 0000 0000 0002',
  });
  return settledOrder(shop, placed.body.orderId);
}

/** Waits until the order's delivery job is `waiting` (suspended, for the customer's signal). */
export async function waitingDelivery(shop: TestShop, orderId: string, timeoutMs = 20_000) {
  return waitFor(async () => {
    const { body } = await shop.request('GET', `/api/orders/${orderId}`);
    return body.delivery?.status === 'waiting' ? body : undefined;
  }, timeoutMs);
}

/** Waits until the order's delivery is recorded and its job has finished. */
export async function deliveredOrder(shop: TestShop, orderId: string, timeoutMs = 20_000) {
  return waitFor(async () => {
    const { body } = await shop.request('GET', `/api/orders/${orderId}`);
    return body.deliveredAt !== null && body.delivery?.status === 'success' ? body : undefined;
  }, timeoutMs);
}

/**
 * Waits until every child of the saga `sagaJobId` has ended (the webhook is enqueued last and
 * not awaited by the saga) and returns the dashboard's page of it.
 */
export async function settledSagaPage(shop: TestShop, sagaJobId: string, timeoutMs = 20_000) {
  return waitFor(async () => {
    const { body } = await shop.request('GET', `/dashboard/api/jobs/${sagaJobId}`);
    return body.children?.every((child: { status: string }) =>
      ['success', 'dead'].includes(child.status),
    )
      ? body
      : undefined;
  }, timeoutMs);
}

export { waitFor };
