import pg from 'pg';
import { databaseUrl } from './helpers.ts';

/**
 * How much of the database a claim touched, measured inside a transaction that is rolled
 * back, so the claim changes nothing. Deterministic: counts of buffers, never times.
 */

export interface ClaimPlan {
  /** EXPLAIN (ANALYZE, BUFFERS) of the installed claim_jobs statement, as text. */
  text: string;
  /** Rows the claim leased. */
  updated: number;
  /** Shared buffers the statement touched (hit or read). */
  buffers: number;
}

/**
 * The statement of the installed `claim_jobs`, with its parameters as literals, explained and
 * run (then rolled back) under the function's own settings.
 */
export async function claimPlan(
  schema: string,
  { now, names, limit }: { now: number; names: readonly string[]; limit: number },
): Promise<ClaimPlan> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT prosrc, proconfig FROM pg_proc
       WHERE proname = 'claim_jobs' AND pronamespace = $1::regnamespace`,
      [schema],
    );
    const settings = rows[0].proconfig as string[];
    const statement = /WITH RECURSIVE levels[\s\S]*?RETURNING j\.\*/.exec(
      rows[0].prosrc as string,
    )?.[0];
    if (statement === undefined) throw new Error('claim_jobs has no claim statement');
    const query = statement
      .replace(/\bp_now\b/g, String(now))
      .replace(/\bp_names\b/g, `ARRAY[${names.map((n) => `'${n}'`).join(', ')}]::text[]`)
      .replace(/\bp_limit\b/g, String(limit))
      .replace(/\bp_owner\b/g, "'plan'")
      .replace(/\bp_lease_token\b/g, "'plan'")
      .replace(/\bp_lease_expires_at\b/g, String(now + 30_000));
    await client.query('BEGIN');
    for (const setting of settings) {
      const [key, value] = setting.split('=');
      await client.query(`SET LOCAL ${key} = ${value}`);
    }
    const analyzed = (await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query}`))
      .rows[0]['QUERY PLAN'][0].Plan;
    const text = (await client.query(`EXPLAIN ${query}`)).rows
      .map((row) => row['QUERY PLAN'])
      .join('\n');
    await client.query('ROLLBACK');
    return {
      text,
      updated: analyzed['Actual Rows'] as number,
      buffers:
        (analyzed['Shared Hit Blocks'] as number) + (analyzed['Shared Read Blocks'] as number),
    };
  } finally {
    await client.end();
  }
}

/**
 * Buffers touched per relation of `schema` (tables and indexes, by name) while `sql` ran, read
 * from the transaction's own statistics before it is rolled back. `sql` runs once before,
 * undone by a savepoint: planning a statement reads index metapages, and a plpgsql function
 * plans its statements on their first run in a session.
 */
export async function buffersTouched(
  schema: string,
  sql: string,
  values: unknown[] = [],
): Promise<{ rows: pg.QueryResultRow[]; buffers: Record<string, number> }> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SAVEPOINT warm');
    await client.query(sql, values);
    await client.query('ROLLBACK TO SAVEPOINT warm');
    const before = await blocksFetched(client, schema);
    const { rows } = await client.query(sql, values);
    const after = await blocksFetched(client, schema);
    await client.query('ROLLBACK');
    const buffers: Record<string, number> = {};
    for (const [name, count] of Object.entries(after)) buffers[name] = count - (before[name] ?? 0);
    return { rows, buffers };
  } finally {
    await client.end();
  }
}

async function blocksFetched(client: pg.Client, schema: string): Promise<Record<string, number>> {
  const { rows } = await client.query(
    `SELECT c.relname, pg_stat_get_xact_blocks_fetched(c.oid)::int AS fetched
     FROM pg_class AS c WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'i')`,
    [schema],
  );
  return Object.fromEntries(rows.map((row) => [row.relname as string, row.fetched as number]));
}
