import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './config.ts';
import { recreateDatabase, resolveServer } from './db.ts';
import { allEngines, DATABASES } from './engines/index.ts';
import { bulkEnqueue } from './metrics/bulk-enqueue.ts';
import { enqueueLatency } from './metrics/enqueue-latency.ts';
import { flowControl } from './metrics/flow-control.ts';
import { listScale } from './metrics/list-scale.ts';
import { memory } from './metrics/memory.ts';
import { otel } from './metrics/otel.ts';
import { pickupLatency } from './metrics/pickup-latency.ts';
import { resultLatency } from './metrics/result-latency.ts';
import { saga } from './metrics/saga.ts';
import { scale } from './metrics/scale.ts';
import { throughput } from './metrics/throughput.ts';
import type { Measurement } from './metrics/types.ts';
import { keepHandWritten, type Results, renderReport } from './report.ts';

const METRICS = [
  enqueueLatency,
  pickupLatency,
  resultLatency,
  throughput,
  bulkEnqueue,
  saga,
  scale,
  memory,
  flowControl,
  otel,
  listScale,
];
/** These repeat internally (scale, list-scale) or once by design (memory: a fresh process per engine). */
const SINGLE_CALL = new Set(['scale', 'memory', 'list-scale']);

const benchDir = fileURLToPath(new URL('..', import.meta.url));

function version(pkg: string): string {
  const file = join(benchDir, 'node_modules', pkg, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

const cfg = parseArgs(process.argv.slice(2));
const started = new Date();
const loadBefore = load();
const server = await resolveServer();
console.error(`PostgreSQL ${server.version} (${server.source}); load ${loadBefore}`);
const urls = {} as Record<keyof typeof DATABASES, string>;
for (const [key, db] of Object.entries(DATABASES)) {
  urls[key as keyof typeof DATABASES] = await recreateDatabase(server, `${cfg.dbPrefix}${db}`);
}
const sqliteFile = join(tmpdir(), `reseolio-bench-${process.pid}.db`);
const engines = allEngines(urls, sqliteFile).filter(
  (e) => cfg.only.length === 0 || cfg.only.includes(e.key),
);
for (const engine of engines) await engine.prepare();

const metrics = METRICS.filter((m) => cfg.metrics.length === 0 || cfg.metrics.includes(m.key));
const results: Results = new Map();
for (const metric of metrics) {
  const byEngine = new Map<(typeof engines)[number], Measurement[]>();
  results.set(metric.key, byEngine);
  const reps = SINGLE_CALL.has(metric.key) ? 1 : cfg.repetitions;
  // Repetitions are the outer loop, so slow drift of the shared machine hits every engine alike.
  for (let rep = 0; rep < reps; rep++) {
    for (const engine of engines) {
      if (!metric.applies(engine)) continue;
      const t0 = performance.now();
      try {
        // The server is shared: a transient failure (another user took every connection)
        // gets one more try after a pause before it is reported.
        const ms = await metric.run(engine, cfg).catch(async (error: unknown) => {
          console.error(`${metric.key} ${engine.key}/${engine.variant} retrying after: ${error}`);
          await new Promise((resolve) => setTimeout(resolve, 3000));
          return metric.run(engine, cfg);
        });
        byEngine.set(engine, [...(byEngine.get(engine) ?? []), ...ms]);
        console.error(
          `${metric.key} rep ${rep + 1} ${engine.key}/${engine.variant}: ${ms
            .map((m) =>
              Object.entries(m)
                .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`)
                .join(' '),
            )
            .join(' | ')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
        );
      } catch (error) {
        console.error(`${metric.key} ${engine.key}/${engine.variant} failed:`, error);
      }
    }
  }
}

const report = renderReport(
  cfg,
  {
    command: `pnpm bench${cfg.full ? ' --full' : ''}`,
    startedAt: started,
    durationS: (Date.now() - started.getTime()) / 1000,
    machine: `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${process.platform} ${process.arch}`,
    loadBefore,
    loadAfter: load(),
    node: process.version,
    postgres: `${server.version} (${server.source}; ${server.settings})`,
    versions: {
      reseolio: version('reseolio'),
      '@reseolio/storage-postgres': version('@reseolio/storage-postgres'),
      '@reseolio/storage-sqlite': version('@reseolio/storage-sqlite'),
      'graphile-worker': version('graphile-worker'),
      'pg-boss': version('pg-boss'),
      pg: version('pg'),
    },
  },
  engines,
  metrics,
  results,
);
console.log(report);
if (cfg.only.length === 0 && cfg.metrics.length === 0) {
  const target = join(benchDir, '..', 'docs', 'benchmarks.md');
  const previous = await readFile(target, 'utf8').catch(() => '');
  await writeFile(target, keepHandWritten(report, previous));
  console.error('wrote docs/benchmarks.md');
}
await server.stop();
process.exit(0);
