/**
 * Prints the plan and the time of `stats()` on a jobs table of ROWS jobs (default 1,000,000),
 * not asserted anywhere: 20 names, arguments of ARGS_CHARS characters (default 10); 90 %
 * success, 2 % dead, 1 % each cancelled, running and waiting, 5 % pending (some not due yet).
 * Then the same with an index on (name, status, run_at), which the adapter does not have, to
 * show what one would buy.
 *
 *   pnpm --filter @reseolio/storage-postgres stats-scale      (Node 20: builds first)
 *
 * Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) and a throw-away
 * schema.
 */
import { createPostgresStorage } from '@reseolio/storage-postgres';
import pg from 'pg';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SCHEMA = 'reseolio_stats_scale';
const ROWS = Number(process.env.ROWS ?? 1_000_000);
/** The size of each job's serialized arguments, in characters. */
const ARGS_CHARS = Number(process.env.ARGS_CHARS ?? 10);
const RUNS = 7;
const T0 = 1_700_000_000_000;
const NOW = T0 + Math.floor(ROWS * 0.9);

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
// The adapter runs its statements on this borrowed pool: remember the stats statement's text,
// so the EXPLAIN below is of exactly what the adapter sends.
let statsText: string | undefined;
const query = pool.query.bind(pool) as (config: unknown, values?: unknown) => Promise<unknown>;
(pool as unknown as { query: typeof query }).query = (config, values) => {
  const text = typeof config === 'string' ? config : (config as { text: string }).text;
  if (/GROUP BY name, status/.test(text)) statsText = text;
  return query(config, values);
};
const storage = createPostgresStorage({ pool, schema: SCHEMA, listen: false });
await storage.init();

let started = performance.now();
await pool.query(
  `INSERT INTO ${SCHEMA}.jobs (id, name, status, args, policy, attempt, max_attempts,
     created_at, run_at, started_at, completed_at, owner_id, lease_token, lease_expires_at,
     waiting_for)
   SELECT gen_random_uuid(), 'fn-' || (g % 20), s.status, $2, '{}', 1, 3,
     ${T0} + g, ${T0} + g, ${T0} + g,
     CASE WHEN s.status IN ('success', 'dead', 'cancelled') THEN ${T0} + g + 5 END,
     CASE WHEN s.status = 'running' THEN 'w' END,
     CASE WHEN s.status = 'running' THEN 't' END,
     CASE WHEN s.status = 'running' THEN ${T0} + g + 30000 END,
     CASE WHEN s.status = 'waiting' THEN '{}' END
   FROM generate_series(1, $1::int) AS g,
     LATERAL (SELECT CASE
       WHEN g % 100 < 90 THEN 'success' WHEN g % 100 < 92 THEN 'dead'
       WHEN g % 100 < 93 THEN 'cancelled' WHEN g % 100 < 94 THEN 'running'
       WHEN g % 100 < 95 THEN 'waiting' ELSE 'pending' END AS status) AS s`,
  [ROWS, JSON.stringify(['x'.repeat(Math.max(0, ARGS_CHARS - 4))])],
);
await pool.query(`VACUUM ANALYZE ${SCHEMA}.jobs`);
console.log(`${ROWS} jobs inserted in ${((performance.now() - started) / 1000).toFixed(1)} s`);

async function measure(label: string): Promise<void> {
  const times: number[] = [];
  let names = 0;
  for (let i = 0; i < RUNS; i++) {
    started = performance.now();
    names = (await storage.stats({ now: NOW })).length;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const plan = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${statsText}`, [NOW]);
  console.log(
    `\n${label}: ${names} names; stats() median ${times[RUNS >> 1]!.toFixed(0)} ms, ` +
      `min ${times[0]!.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms over ${RUNS} runs`,
  );
  for (const row of plan.rows) console.log(`  ${row['QUERY PLAN']}`);
}

await measure('as shipped (no index of name and status)');
await pool.query(`CREATE INDEX stats_scale_idx ON ${SCHEMA}.jobs (name, status, run_at)`);
await pool.query(`VACUUM ANALYZE ${SCHEMA}.jobs`);
await measure('with an index on (name, status, run_at), all-visible after VACUUM');

await storage.close();
await pool.query(`DROP SCHEMA ${SCHEMA} CASCADE`);
await pool.end();
