/**
 * Prints the plan and the time of `stats()` on a database of ROWS jobs (default 1,000,000),
 * not asserted anywhere: 20 names, arguments of ARGS_CHARS characters (default 10); 90 %
 * success, 2 % dead, 1 % each cancelled, running and waiting, 5 % pending (some not due yet).
 *
 *   pnpm --filter @reseolio/storage-sqlite stats-scale      (builds first)
 *
 * Uses a throw-away file in the system's temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStorage } from '@reseolio/storage-sqlite';
import Database from 'better-sqlite3';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const ARGS_CHARS = Number(process.env.ARGS_CHARS ?? 10);
const RUNS = 7;
const T0 = 1_700_000_000_000;
const NOW = T0 + Math.floor(ROWS * 0.9);

const folder = mkdtempSync(join(tmpdir(), 'reseolio-stats-scale-'));
const filename = join(folder, 'jobs.db');
// Remember the text of the adapter's stats statement, so the plan below is of exactly it.
let statsText: string | undefined;
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (this: Database.Database, source: string) {
  if (/GROUP BY name, status/.test(source)) statsText = source;
  return prepare.call(this, source);
} as typeof prepare;

const storage = createSqliteStorage({ filename });
await storage.init();

const db = new Database(filename);
let started = performance.now();
db.prepare(
  `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < @rows),
   s AS (SELECT n, CASE
       WHEN n % 100 < 90 THEN 'success' WHEN n % 100 < 92 THEN 'dead'
       WHEN n % 100 < 93 THEN 'cancelled' WHEN n % 100 < 94 THEN 'running'
       WHEN n % 100 < 95 THEN 'waiting' ELSE 'pending' END AS status FROM g)
   INSERT INTO reseolio_jobs (id, name, status, args, policy, attempt, max_attempts,
     created_at, run_at, started_at, completed_at, owner_id, lease_token, lease_expires_at,
     waiting_for)
   SELECT printf('%08x-0000-7000-8000-%012x', n / 65536, n), 'fn-' || (n % 20), status,
     @args, '{}', 1, 3, @t0 + n, @t0 + n, @t0 + n,
     CASE WHEN status IN ('success', 'dead', 'cancelled') THEN @t0 + n + 5 END,
     CASE WHEN status = 'running' THEN 'w' END,
     CASE WHEN status = 'running' THEN 't' END,
     CASE WHEN status = 'running' THEN @t0 + n + 30000 END,
     CASE WHEN status = 'waiting' THEN '{}' END
   FROM s`,
).run({ rows: ROWS, t0: T0, args: JSON.stringify(['x'.repeat(Math.max(0, ARGS_CHARS - 4))]) });
console.log(`${ROWS} jobs inserted in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const times: number[] = [];
let names = 0;
for (let i = 0; i < RUNS; i++) {
  started = performance.now();
  names = (await storage.stats({ now: NOW })).length;
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
console.log(
  `${names} names; stats() median ${times[RUNS >> 1]!.toFixed(0)} ms, ` +
    `min ${times[0]!.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms over ${RUNS} runs`,
);
const plan = db.prepare(`EXPLAIN QUERY PLAN ${statsText}`).all({ now: NOW });
for (const step of plan as { detail: string }[]) console.log(`  ${step.detail}`);

db.close();
await storage.close();
rmSync(folder, { recursive: true, force: true });
