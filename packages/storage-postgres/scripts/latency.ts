/**
 * Prints wake-up latencies over PostgreSQL LISTEN/NOTIFY, not asserted anywhere:
 * - pickup: `await fn(i)` starts → the handler starts in another process;
 * - result: the handler returns in the worker process → `result()` resolves here.
 *
 *   pnpm --filter @reseolio/storage-postgres latency          (Node 20: builds first)
 *   node --experimental-strip-types scripts/latency.ts        (Node >= 22.6, after a build)
 *
 * Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) and a throw-away
 * schema. One job at a time, so each number is a latency, not a queueing delay.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createPostgresStorage } from '@reseolio/storage-postgres';
import pg from 'pg';
import { Reseolio } from 'reseolio';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SCHEMA = 'reseolio_latency';
const JOBS = Number(process.env.JOBS ?? 300);
const NAME = 'latency:probe';

/** Epoch milliseconds with sub-millisecond resolution, comparable across local processes. */
const preciseNow = (): number => performance.timeOrigin + performance.now();

interface Timing {
  startedAt: number;
  endedAt: number;
}

function engine(workerConcurrency: number): Reseolio {
  // A URL makes the engine own (and close) the storage; the schema option needs an instance,
  // which the engine borrows, so each caller closes it after stop().
  const storage = createPostgresStorage({ connectionString: DATABASE_URL, schema: SCHEMA });
  const reseolio = new Reseolio({ storage, workerConcurrency });
  reseolio.once('stopped', () => void storage.close());
  return reseolio;
}

async function worker(): Promise<void> {
  const reseolio = engine(10);
  reseolio.durable(NAME, async (): Promise<Timing> => {
    const startedAt = preciseNow();
    return { startedAt, endedAt: preciseNow() };
  });
  await reseolio.start();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void reseolio.stop().then(() => process.exit(0)));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function report(label: string, samples: number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
  console.log(
    `${label.padEnd(28)} p50 ${fmt(percentile(sorted, 50))}  p95 ${fmt(percentile(sorted, 95))}` +
      `  max ${fmt(sorted.at(-1)!)}  (n=${sorted.length})`,
  );
}

async function producer(): Promise<void> {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  const reseolio = engine(0);
  const probe = reseolio.durable(NAME, async (): Promise<Timing> => {
    throw new Error('runs in the worker process only');
  });
  await reseolio.start();

  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'worker'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));

  const pickup: number[] = [];
  const result: number[] = [];
  try {
    for (let i = 0; i < JOBS + 20; i++) {
      const calledAt = preciseNow();
      const handle = await probe();
      const timing = await handle.result(10_000);
      const resolvedAt = preciseNow();
      if (i < 20) continue; // warm-up: connections, JIT
      pickup.push(timing.startedAt - calledAt);
      result.push(resolvedAt - timing.endedAt);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await reseolio.stop();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
  }
  report('pickup (call → handler)', pickup);
  report('result() across processes', result);
}

await (process.argv[2] === 'worker' ? worker() : producer());
