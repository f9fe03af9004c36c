import { createHash } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import type { Pool, PoolClient } from 'pg';

export type Row = Record<string, unknown>;

/**
 * Runs one parameterised statement and returns its rows. Queries are written once as
 * `$1`-style SQL and run through an executor, so the same statement runs on the pool or inside
 * a caller's transaction (a `pg` client or a drizzle transaction).
 */
export type SqlExecutor = (text: string, values: readonly unknown[]) => Promise<Row[]>;

/**
 * Runs statements on the pool. With `prepared`, each distinct text becomes a named prepared
 * statement: node-postgres parses and plans it once per connection and afterwards sends only
 * the name and the values. The name is a hash of the text, so two adapters with different
 * schemas on one borrowed pool never collide.
 */
export function poolExecutor(pool: Pool, prepared = true): SqlExecutor {
  if (!prepared) return async (text, values) => (await pool.query(text, values as unknown[])).rows;
  return async (text, values) =>
    (await pool.query({ name: statementName(text), text, values: values as unknown[] })).rows;
}

/**
 * Runs statements on one checked-out client (a transaction of our own), prepared like
 * {@link poolExecutor}'s under the same names: node-postgres remembers per connection which
 * names it has prepared, so a statement prepared by a pool query is reused here and back.
 */
export function clientExecutor(client: PoolClient, prepared = true): SqlExecutor {
  if (!prepared) {
    return async (text, values) => (await client.query(text, values as unknown[])).rows;
  }
  return async (text, values) =>
    (await client.query({ name: statementName(text), text, values: values as unknown[] })).rows;
}

// Statement texts are a fixed set (one per query shape), so this cache stays small.
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `reseolio_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
}

interface DrizzleExecutable {
  execute(query: SQL): Promise<{ rows: Row[] } | Row[]>;
}

/**
 * An executor for a caller's open transaction. A drizzle database or transaction exposes
 * `execute(sql)` (and `query` is its relational builder, an object), so `execute` is checked
 * first; a `pg` `PoolClient`/`Client` exposes `query(text, values)`.
 * Returns undefined for anything else.
 */
export function transactionExecutor(transaction: unknown): SqlExecutor | undefined {
  if (transaction === null || typeof transaction !== 'object') return undefined;
  if (typeof (transaction as DrizzleExecutable).execute === 'function') {
    const tx = transaction as DrizzleExecutable;
    return async (text, values) => {
      const result = await tx.execute(toDrizzleSql(text, values));
      // node-postgres returns a QueryResult; postgres-js returns the rows array itself.
      return Array.isArray(result) ? result : result.rows;
    };
  }
  if (typeof (transaction as PgQueryable).query === 'function') {
    const client = transaction as PgQueryable;
    return async (text, values) => (await client.query(text, values as unknown[])).rows;
  }
  return undefined;
}

/** Turns `$n` placeholders into drizzle params, so drizzle binds the values itself. */
function toDrizzleSql(text: string, values: readonly unknown[]): SQL {
  const parts = text.split(/\$(\d+)/);
  const chunks: SQL[] = [];
  parts.forEach((part, i) => {
    // split() with a capture group alternates: text, param number, text, param number…
    chunks.push(i % 2 === 0 ? sql.raw(part) : sql`${values[Number(part) - 1]}`);
  });
  return sql.join(chunks);
}
