import { createPostgresStorage } from '@reseolio/storage-postgres';
import { Reseolio } from 'reseolio';
import { sql } from '../db.ts';
import { median } from '../stats.ts';
import type { Measurement, Metric } from './types.ts';

/** Jobs seeded: the dashboard's "usable at 1,000,000 jobs" (issue 17). */
const SEEDED = 1_000_000;
const DAY_MS = 86_400_000;

/**
 * The reads the dashboard makes, on a PostgreSQL table of a million jobs made over the last
 * day (UUIDv7 ids in creation order, as the engine makes them): 96.9 % success over five
 * functions, 0.5 % dead, 0.5 % cancelled, the newest 1 % pending, one function with 0.1 % of
 * the jobs, an idempotency key on every tenth. Each read runs once to warm the cache, then is
 * timed; a repetition times every read once. Milliseconds from call to answer, through the
 * public API (`listJobs`, `countJobs`, `completions`), pages of 50.
 */
export const listScale: Metric = {
  key: 'list-scale',
  title: '11. Listing at 1,000,000 jobs (dashboard reads)',
  describe: (cfg) =>
    `PostgreSQL only: ${SEEDED.toLocaleString('en')} jobs seeded with generate_series (made over one day; 0.5 % dead, 0.5 % cancelled, 1 % pending, one function with 0.1 % of the jobs), VACUUM ANALYZE, then each read timed ${cfg.repetitions} times after one warm-up: pages of 50 newest first (keyset \`before\` for the next and a deep page), exact counts, completions of the last hour by minute. ms.`,
  columns: [
    { key: 'first', label: 'first page', unit: 'ms', better: 'lower' },
    { key: 'dead', label: 'dead page', unit: 'ms', better: 'lower' },
    { key: 'deadNext', label: 'dead next page', unit: 'ms', better: 'lower' },
    { key: 'deep', label: 'page at 500,000', unit: 'ms', better: 'lower' },
    { key: 'success', label: 'success page', unit: 'ms', better: 'lower' },
    { key: 'rareName', label: 'name 0.1 % page', unit: 'ms', better: 'lower' },
    { key: 'key', label: 'idempotency key', unit: 'ms', better: 'lower' },
    { key: 'lastHour', label: 'created last hour page', unit: 'ms', better: 'lower' },
    { key: 'countAll', label: 'count all', unit: 'ms', better: 'lower' },
    { key: 'countDead', label: 'count dead', unit: 'ms', better: 'lower' },
    { key: 'countName', label: 'count name 0.1 %', unit: 'ms', better: 'lower' },
    { key: 'completions', label: 'completions 1 h', unit: 'ms', better: 'lower' },
  ],
  applies: (engine) => engine.key === 'reseolio-pg' && engine.variant === 'default',
  async run(engine, cfg) {
    // childArgs: [key, variant, location]; the PostgreSQL URL of this engine's database.
    const url = engine.childArgs[2]!;
    await engine.reset();
    const now = Date.now();
    await seed(url, now);
    // Borrowed by the engine: closed here after stop().
    const storage = createPostgresStorage({ connectionString: url });
    const reseolio = new Reseolio({
      storage,
      workerConcurrency: 0,
      logger: { warn() {}, error: console.error },
    });
    await reseolio.init();
    try {
      const [middle] = (
        await sql(url, 'SELECT id FROM reseolio.jobs ORDER BY id OFFSET $1 LIMIT 1', [SEEDED / 2])
      ).rows as { id: string }[];
      const firstDead = await reseolio.listJobs({ status: 'dead', limit: 50 });
      const reads: Record<string, () => Promise<unknown>> = {
        first: () => reseolio.listJobs({ limit: 50 }),
        dead: () => reseolio.listJobs({ status: 'dead', limit: 50 }),
        deadNext: () =>
          reseolio.listJobs({ status: 'dead', limit: 50, before: firstDead.at(-1)!.id }),
        deep: () => reseolio.listJobs({ limit: 50, before: middle!.id }),
        success: () => reseolio.listJobs({ status: 'success', limit: 50 }),
        rareName: () => reseolio.listJobs({ name: 'bench:rare', limit: 50 }),
        key: () => reseolio.listJobs({ idempotencyKey: `order-${SEEDED / 2}`, limit: 50 }),
        lastHour: () => reseolio.listJobs({ createdAfter: now - 3_600_000, limit: 50 }),
        countAll: () => reseolio.countJobs(),
        countDead: () => reseolio.countJobs({ status: 'dead' }),
        countName: () => reseolio.countJobs({ name: 'bench:rare' }),
        completions: () => reseolio.completions({ sinceMs: 3_600_000, bucketMs: 60_000 }),
      };
      const times: Record<string, number[]> = {};
      for (const [key, read] of Object.entries(reads)) {
        await read();
        times[key] = [];
        for (let i = 0; i < cfg.repetitions; i++) {
          const t0 = performance.now();
          await read();
          times[key].push(performance.now() - t0);
        }
      }
      console.error(
        `list-scale medians (ms): ${Object.entries(times)
          .map(([k, v]) => `${k}=${median(v).toFixed(1)}`)
          .join(' ')}`,
      );
      return Array.from({ length: cfg.repetitions }, (_, i) => {
        const m: Measurement = {};
        for (const key of Object.keys(reads)) m[key] = times[key]![i]!;
        return m;
      });
    } finally {
      await reseolio.stop();
      await storage.close();
      await engine.reset();
    }
  },
};

/** One INSERT ... SELECT from generate_series, then VACUUM ANALYZE (as the scale metric seeds). */
async function seed(url: string, now: number): Promise<void> {
  await sql(
    url,
    `INSERT INTO reseolio.jobs (id, name, status, args, result, error, policy, attempt,
       max_attempts, idempotency_key, created_at, run_at, started_at, completed_at)
     SELECT (lpad(to_hex(t), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
       CASE WHEN g % 1000 = 0 THEN 'bench:rare' ELSE 'bench:' || (g % 5) END,
       st, '[1]', CASE WHEN st = 'success' THEN 'null' END,
       CASE WHEN st = 'dead' THEN '{"name":"Error","message":"boom"}' END, '{}',
       CASE WHEN st = 'pending' THEN 0 ELSE 1 END, 3,
       CASE WHEN g % 10 = 0 THEN 'order-' || g END,
       t, t, CASE WHEN st = 'pending' THEN NULL ELSE t END,
       CASE WHEN st IN ('success', 'dead', 'cancelled') THEN t + 5 END
     FROM (
       SELECT g, $2::bigint - $3::bigint + (g * $3::bigint / $1::bigint) AS t, md5(g::text) AS h,
         CASE WHEN g > $1 - $1 / 100 THEN 'pending'
              WHEN g % 200 = 7 THEN 'dead'
              WHEN g % 200 = 11 THEN 'cancelled'
              ELSE 'success' END AS st
       FROM generate_series(1, $1) AS g
     ) AS s`,
    [SEEDED, now, DAY_MS],
  );
  await sql(url, 'VACUUM ANALYZE reseolio.jobs');
}
