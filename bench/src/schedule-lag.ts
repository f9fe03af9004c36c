/**
 * How late a schedule's ticks run on an idle node: `pnpm --filter @reseolio/bench schedule-lag`
 * (`--ticks N`, default 20). For each storage, one engine runs a seconds schedule
 * (`* * * * * *`) and records, per tick, when its job was made (fired: the claim of the tick)
 * and when its handler started, both relative to the tick's time. Prints p50, p95 and max in
 * milliseconds. The promise under test: a tick runs within a second of its time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresStorage } from '@reseolio/storage-postgres';
import { currentJob, Reseolio, type StorageAdapter } from 'reseolio';
import { recreateDatabase, resolveServer } from './db.ts';
import { percentile, waitUntil } from './stats.ts';

const ticksArg = process.argv.indexOf('--ticks');
const TICKS = ticksArg > 0 ? Number(process.argv[ticksArg + 1]) : 20;

interface Lags {
  fired: number[];
  started: number[];
}

async function measure(storage: string | StorageAdapter): Promise<Lags> {
  const engine = new Reseolio({ storage, logger: { ...console, debug() {}, info() {} } });
  const startedAt = new Map<string, number>();
  const tick = engine.durable('bench:tick', async () => {
    // The engine's clock is the database's; Date.now() is close enough on one machine.
    startedAt.set(currentJob()!.jobId, Date.now());
  });
  await engine.start();
  await engine.schedule('bench:lag', tick, { cron: '* * * * * *', catchUp: 'all' });
  // The first tick may fall while the engine is still starting: measure from the second on.
  await waitUntil(() => startedAt.size >= TICKS + 1, (TICKS + 30) * 1000, 50);
  await engine.pauseSchedule('bench:lag');
  const jobs = (await engine.listJobs({ scheduleId: 'bench:lag', limit: 1000 }))
    .filter((job) => startedAt.has(job.id))
    .sort((a, b) => a.runAt.getTime() - b.runAt.getTime())
    .slice(1);
  await engine.stop();
  return {
    fired: jobs.map((job) => job.createdAt.getTime() - job.runAt.getTime()),
    started: jobs.map((job) => startedAt.get(job.id)! - job.runAt.getTime()),
  };
}

function row(label: string, samples: number[]): string {
  const cells = [50, 95, 100].map((p) => percentile(samples, p).toFixed(1).padStart(8));
  return `${label.padEnd(44)}${cells.join('')}   (${samples.length} ticks)`;
}

const results: [string, Lags][] = [];
const dir = await mkdtemp(join(tmpdir(), 'reseolio-schedule-lag-'));
try {
  results.push(['sqlite', await measure(`sqlite:${join(dir, 'lag.db')}`)]);
} finally {
  await rm(dir, { recursive: true, force: true });
}
const server = await resolveServer();
try {
  const url = await recreateDatabase(server, 'bench_schedule_lag');
  const adapter = createPostgresStorage({ connectionString: url });
  try {
    results.push([`postgres (${server.source})`, await measure(adapter)]);
  } finally {
    await adapter.close();
  }
} finally {
  await server.stop();
}

console.log(`\nSchedule tick lag on an idle node, ms after the tick (p50, p95, max)\n`);
console.log(`${''.padEnd(44)}${['p50', 'p95', 'max'].map((h) => h.padStart(8)).join('')}`);
for (const [name, lags] of results) {
  console.log(row(`${name}: job made`, lags.fired));
  console.log(row(`${name}: handler started`, lags.started));
}
