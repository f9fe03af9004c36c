/**
 * What telemetry costs an app with no OpenTelemetry SDK: `pnpm --filter @reseolio/bench
 * otel-noop --baseline <built reseolio package dir>` (`--jobs N`, default 20000; `--rounds N`,
 * default 6). Each round drains N enqueued no-op jobs at concurrency 10 on in-memory storage
 * (no database: the engine's own CPU per job is all there is to measure), once with this
 * build and once with the baseline build (e.g. the commit before telemetry), alternating which
 * goes first. Prints each build's median µs per job and the difference.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from 'reseolio';
import { waitUntil } from './stats.ts';

type Build = Pick<typeof current, 'Reseolio' | 'MemoryStorage'>;

const arg = (flag: string) => {
  const at = process.argv.indexOf(flag);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const JOBS = Number(arg('--jobs') ?? 20_000);
const ROUNDS = Number(arg('--rounds') ?? 6);
const baselineDir = arg('--baseline');
if (!baselineDir) throw new Error('--baseline <built reseolio package dir> is required');
const baseline = (await import(pathToFileURL(resolve(baselineDir, 'dist/index.js')).href)) as Build;

const quiet = { debug() {}, info() {}, warn() {}, error: console.error };

/** µs per job to enqueue (in batches of 1000) and drain `JOBS` no-op jobs at concurrency 10. */
async function microsPerJob(build: Build): Promise<number> {
  const engine = new build.Reseolio({
    storage: new build.MemoryStorage(),
    workerConcurrency: 10,
    logger: quiet,
  });
  let ran = 0;
  const noop = engine.durable('noop', async () => {
    ran += 1;
  });
  const started = performance.now();
  for (let i = 0; i < JOBS; i += 1000) {
    await noop.enqueueMany(Array.from({ length: Math.min(1000, JOBS - i) }, () => []));
  }
  await engine.start();
  await waitUntil(() => ran >= JOBS, 600_000, 1);
  const elapsed = performance.now() - started;
  await engine.stop();
  return (elapsed * 1000) / JOBS;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

// One warm-up each: JIT and module loading are not what is measured.
await microsPerJob(current);
await microsPerJob(baseline);
const samples = { current: [] as number[], baseline: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  const order =
    round % 2 === 0 ? (['current', 'baseline'] as const) : (['baseline', 'current'] as const);
  for (const which of order) {
    samples[which].push(await microsPerJob(which === 'current' ? current : baseline));
  }
  console.error(
    `round ${round + 1}: this build ${samples.current.at(-1)!.toFixed(1)} µs/job, baseline ${samples.baseline.at(-1)!.toFixed(1)} µs/job`,
  );
}
const mine = median(samples.current);
const theirs = median(samples.baseline);
console.log(
  `${JOBS} no-op jobs on MemoryStorage, c=10, no SDK, median of ${ROUNDS}: this build ${mine.toFixed(1)} µs/job, ` +
    `baseline ${theirs.toFixed(1)} µs/job, difference ${(mine - theirs).toFixed(1)} µs/job ` +
    `(${((100 * (mine - theirs)) / theirs).toFixed(1)} %)`,
);
process.exit(0);
