/**
 * The crash drill: starts the shop as a child process, places orders over HTTP, kills the
 * process with SIGKILL while sagas are in flight, starts it again on the same database, waits
 * until everything is settled and audits the ledger. Exits non-zero on any violation.
 *
 *   node dist/scripts/crash-drill.js [--orders 50]       (SQLite in a temp dir)
 *   DATABASE_URL=postgres://… node dist/scripts/crash-drill.js   (a fresh database on that server)
 *
 * It talks to the shop only through HTTP and the database URL, like an operator would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

export interface DrillOptions {
  /** Orders to place. @default 50 */
  orders?: number;
  /** PostgreSQL server to make a fresh database on; SQLite in a temp dir when absent. */
  databaseUrl?: string | undefined;
  /** Lease of the shop's engine, in ms: how soon a killed process's jobs are taken again. @default 2000 */
  leaseMs?: number;
  /** How long the restarted shop gets to settle everything, in ms. @default 90000 */
  settleTimeoutMs?: number;
  /** Progress lines. @default console.log */
  log?: (line: string) => void;
}

/** The subset of the shop's `/api/audit` answer the drill reads. */
interface Audit {
  orders: { total: number; fulfilled: number; cancelled: number; inFlight: number };
  payments: { charged: number; declined: number; replaysAbsorbed: number };
  refunds: { count: number; replaysAbsorbed: number };
  emails: { sent: number; replaysAbsorbed: number };
  webhooks: { events: number; redeliveriesDropped: number };
  jobs: Record<'pending' | 'running' | 'success' | 'dead' | 'cancelled', number>;
  cancelReasons: Record<string, number>;
  settled: boolean;
  violations: string[];
}

interface OrderView {
  id: string;
  status: string;
  saga: { attempt: number; status: string } | null;
}

export interface DrillResult {
  ok: boolean;
  violations: string[];
  audit: Audit | undefined;
  /** Orders not yet fulfilled or cancelled when the process was killed. */
  inFlightAtKill: number;
  /** Sagas that needed more than one attempt (the killed one counts). */
  resumedSagas: number;
  summary: string;
}

/** The shop's drill settings: quick services that fail often enough for retries to show. */
const DRILL_FAULTS = {
  latencyMs: 150,
  gatewayFailureRate: 0.2,
  declineRate: 0.05,
  carrierFailureRate: 0.2,
  mailFailureRate: 0.2,
  imageFailureRate: 0,
  webhookFailureRate: 0.2,
};

const PACKAGE_ROOT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/scripts/') ? '../../' : '../', import.meta.url),
);

export async function runCrashDrill(options: DrillOptions = {}): Promise<DrillResult> {
  const orderCount = options.orders ?? 50;
  const log = options.log ?? ((line: string) => console.log(line));
  const violations: string[] = [];
  const database = options.databaseUrl
    ? await freshPostgresDatabase(options.databaseUrl)
    : freshSqliteFile();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url ?? '',
    SQLITE_FILE: database.file ?? '',
    LEASE_MS: String(options.leaseMs ?? 2_000),
    SHOP_FAULTS: JSON.stringify(DRILL_FAULTS),
    QUIET: '1',
  };
  let shop: Shop | undefined;
  let ok = false;
  try {
    log(`crash drill: ${orderCount} orders on ${database.description}`);
    shop = await startShop(env, base);

    // A mix that exercises every ending: most orders succeed, some cards are declined, and the
    // lamp (5 in stock, 2 per order) runs out.
    const requests = Array.from({ length: orderCount }, (_, i) => ({
      productId: i % 5 === 4 ? 'lamp' : i % 2 === 0 ? 'mug' : 'tee',
      quantity: i % 5 === 4 ? 2 : 1,
      card: i % 7 === 3 ? '4000000000000002' : '4242424242424242',
      email: `buyer${i}@example.com`,
    }));
    const orderIds: string[] = [];
    for (let i = 0; i < requests.length; i += 10) {
      const placed = await Promise.all(
        requests
          .slice(i, i + 10)
          .map((body) => http<{ orderId: string }>(`${base}/api/orders`, body)),
      );
      orderIds.push(...placed.map((p) => p.orderId));
    }
    log(`placed ${orderIds.length} orders`);

    // Kill once some sagas have finished and others are mid-way.
    const killAfter = Math.max(1, Math.floor(orderCount * 0.2));
    const deadline = Date.now() + 15_000;
    let orders = await listOrders(base, orderCount);
    while (settledCount(orders) < killAfter && Date.now() < deadline) {
      await sleep(100);
      orders = await listOrders(base, orderCount);
    }
    const inFlightAtKill = orders.length - settledCount(orders);
    await shop.kill();
    shop = undefined;
    log(`SIGKILL with ${settledCount(orders)} orders settled and ${inFlightAtKill} in flight`);
    if (inFlightAtKill === 0) violations.push('no saga was in flight when the process was killed');

    shop = await startShop(env, base);
    log('restarted on the same database; waiting for every order to settle');
    const settleBy = Date.now() + (options.settleTimeoutMs ?? 90_000);
    let audit = await http<Audit>(`${base}/api/audit`);
    while (!audit.settled && Date.now() < settleBy) {
      await sleep(500);
      audit = await http<Audit>(`${base}/api/audit`);
    }
    orders = await listOrders(base, orderCount);
    const resumedSagas = orders.filter((o) => (o.saga?.attempt ?? 0) > 1).length;

    violations.push(...audit.violations);
    if (!audit.settled) {
      violations.push(
        `not settled after ${options.settleTimeoutMs ?? 90_000} ms: ${audit.orders.inFlight} orders ` +
          `in flight, ${audit.jobs.pending} jobs pending, ${audit.jobs.running} running`,
      );
    }
    if (audit.orders.total !== orderCount) {
      violations.push(`${orderCount} orders placed but ${audit.orders.total} stored`);
    }
    ok = violations.length === 0;
    const summary = formatSummary(audit, inFlightAtKill, resumedSagas, violations);
    return { ok, violations, audit, inFlightAtKill, resumedSagas, summary };
  } catch (error) {
    violations.push(`drill aborted: ${(error as Error).message}`);
    if (shop) log(shop.output());
    return {
      ok: false,
      violations,
      audit: undefined,
      inFlightAtKill: 0,
      resumedSagas: 0,
      summary: formatSummary(undefined, 0, 0, violations),
    };
  } finally {
    await shop?.stop();
    // Keep the evidence when something went wrong.
    if (ok) await database.drop();
    else log(`database kept for inspection: ${database.description}`);
  }
}

function formatSummary(
  audit: Audit | undefined,
  inFlightAtKill: number,
  resumedSagas: number,
  violations: string[],
): string {
  const lines: string[] = [];
  if (audit) {
    const reasons = Object.entries(audit.cancelReasons)
      .map(([reason, count]) => `${count} × ${reason}`)
      .join(', ');
    lines.push(
      `orders     ${audit.orders.total}: ${audit.orders.fulfilled} fulfilled, ${audit.orders.cancelled} cancelled${reasons ? ` (${reasons})` : ''}, ${audit.orders.inFlight} stuck`,
      `crash      ${inFlightAtKill} orders in flight at SIGKILL; ${resumedSagas} sagas resumed by a later attempt`,
      `payments   ${audit.payments.charged} charged, ${audit.payments.declined} declined, ${audit.refunds.count} refunded; ${audit.payments.replaysAbsorbed} retried charges answered from the ledger (no double charge)`,
      `emails     ${audit.emails.sent} sent; ${audit.emails.replaysAbsorbed} retried sends deduplicated by the outbox (no double email)`,
      `webhooks   ${audit.webhooks.events} events received; ${audit.webhooks.redeliveriesDropped} redeliveries dropped by the receiver`,
      `jobs       ${audit.jobs.success} succeeded, ${audit.jobs.dead} dead (steps of cancelled orders), ${audit.jobs.pending + audit.jobs.running} still active`,
    );
  }
  lines.push(
    violations.length === 0
      ? 'RESULT     ✓ every order fulfilled or cancelled with its compensation done, no double charge, no double email, nothing stuck'
      : `RESULT     ✗ ${violations.length} violation(s):\n${violations.map((v) => `  - ${v}`).join('\n')}`,
  );
  return lines.join('\n');
}

interface Shop {
  kill(): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

async function startShop(env: NodeJS.ProcessEnv, base: string): Promise<Shop> {
  const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'dist/main.js')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const shop: Shop = {
    kill: () => signal(child, 'SIGKILL', exited),
    stop: () => signal(child, 'SIGTERM', exited),
    output: () => output,
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the shop exited with ${child.exitCode}:\n${output}`);
    try {
      await http(`${base}/api/health`);
      return shop;
    } catch {
      if (Date.now() > deadline) {
        await shop.kill();
        throw new Error(`the shop did not answer within 20 s:\n${output}`);
      }
      await sleep(100);
    }
  }
}

async function signal(child: ChildProcess, name: NodeJS.Signals, exited: Promise<void>) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(name);
  await exited;
}

async function http<T = unknown>(url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

async function listOrders(base: string, limit: number): Promise<OrderView[]> {
  return (await http<{ orders: OrderView[] }>(`${base}/api/orders?limit=${Math.min(limit, 200)}`))
    .orders;
}

function settledCount(orders: OrderView[]): number {
  return orders.filter((o) => o.status === 'fulfilled' || o.status === 'cancelled').length;
}

export interface DrillDatabase {
  url?: string;
  file?: string;
  description: string;
  drop(): Promise<void>;
}

function freshSqliteFile(): DrillDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'demo-shop-drill-'));
  const file = join(dir, 'shop.db');
  return {
    file,
    description: `SQLite ${file}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A new database on the server of `serverUrl`, so a drill never meets another run's data. */
export async function freshPostgresDatabase(serverUrl: string): Promise<DrillDatabase> {
  const name = `demo_shop_drill_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    description: `PostgreSQL database ${name} on ${url.host}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Run as a program (not when a test imports it).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flag = process.argv.indexOf('--orders');
  const orders = flag >= 0 ? Number(process.argv[flag + 1]) : 50;
  if (!Number.isInteger(orders) || orders < 1) {
    console.error('--orders takes a positive integer');
    process.exit(2);
  }
  const result = await runCrashDrill({
    orders,
    databaseUrl: process.env.DATABASE_URL || undefined,
  });
  console.log(`\n${result.summary}`);
  process.exit(result.ok ? 0 : 1);
}
