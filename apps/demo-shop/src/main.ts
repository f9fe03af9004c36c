import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { startTelemetry } from './telemetry.ts';

// `pnpm demo`: starts the shop on SQLite (or PostgreSQL when DATABASE_URL is set) and prints
// what happens to every job, one line each.

const config = loadConfig();
// Before the engine exists: it takes its meter from the global provider when it is built.
const stopTelemetry = await startTelemetry();
const shop = await buildApp(config, {
  logger: process.env.LOG_LEVEL ? { level: process.env.LOG_LEVEL } : false,
});

const engine = shop.app.reseolio;
const label = (job: { name: string; args?: unknown; id: string }) =>
  job.name.split(':').slice(1).join(' ');
engine.on('job:retry', (job, error, runAt) =>
  log(
    `↻ ${label(job)} attempt ${job.attempt}/${job.maxAttempts} failed (${error.message}); retry in ${runAt.getTime() - Date.now()} ms`,
  ),
);
engine.on('job:dead', (job, error) => log(`✗ ${label(job)} gave up: ${error.message}`));
engine.on('job:success', (job, result) => {
  if (job.name === 'checkout:order:process') log(`✓ saga ${JSON.stringify(result)}`);
});

await shop.app.listen({ port: config.port, host: config.host });
const address = shop.app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
console.log(`Reseolio demo shop on ${shop.database.description}`);
console.log(`  open http://${host}:${port}/`);
console.log(`  dashboard at http://${host}:${port}/dashboard/ (localhost only)`);
console.log(`  metrics at http://${host}:${port}/metrics (Prometheus text, localhost only)`);
if (stopTelemetry) {
  console.log(`  traces and metrics to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT} (OTLP/HTTP)`);
}

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    log(`${signal}: draining running jobs, then closing`);
    shop
      .close()
      .then(() => stopTelemetry?.())
      .then(
        () => process.exit(0),
        (error) => {
          console.error(error);
          process.exit(1);
        },
      );
  });
}

function log(line: string): void {
  if (process.env.QUIET !== '1') console.log(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
}
