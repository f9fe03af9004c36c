import { createPostgresStorage } from '@reseolio/storage-postgres';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Query, SqlDriver, Work } from './driver.ts';
import type { ShopDatabase } from './repository.ts';
import { addedColumns, schemaDdl } from './schema.ts';
import { SqlShopRepository } from './sql-repository.ts';

/** Connects to PostgreSQL, creates the shop's tables, and shares the pool with Reseolio. */
export async function openPostgres(connectionString: string): Promise<ShopDatabase> {
  const pool = new pg.Pool({ connectionString, max: 20 });
  // An idle client whose backend went away emits 'error' on the pool; unhandled, that would
  // crash the shop. The pool replaces the client on the next query.
  pool.on('error', () => {});
  try {
    // Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalogue;
    // the advisory lock makes two shops starting together take turns.
    await inTransaction(pool, 'BEGIN', async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('demo-shop:ddl'))");
      await client.query(schemaDdl('BIGINT'));
      // A database made by an older demo gets the columns added since.
      for (const { table, column, type } of addedColumns('BIGINT')) {
        await client.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${column} ${type}`);
      }
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
  // Reseolio's tables live in their own `reseolio` schema of the same database.
  const storage = createPostgresStorage({ pool });
  const url = new URL(connectionString);
  return {
    repo: new SqlShopRepository(postgresDriver(pool)),
    storage,
    description: `PostgreSQL ${url.host}${url.pathname}`,
    close: async () => {
      await storage.close();
      await pool.end();
    },
  };
}

const dialect = new PgDialect();

/**
 * pg reads BIGINT as a string, since it can exceed 2^53; the shop's BIGINTs are epoch
 * milliseconds, exact as numbers. Set per query, so Reseolio's queries on the pool keep pg's
 * default.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? Number
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** `$n` placeholders; a transaction holds one pooled client from BEGIN to COMMIT. */
function postgresDriver(pool: pg.Pool): SqlDriver {
  const queryOn =
    (client: pg.Pool | pg.PoolClient): Query =>
    async <R>(statement: SQL) => {
      const { sql: text, params } = dialect.sqlToQuery(statement);
      const result = await client.query({ text, values: params, types });
      return result.rows as R[];
    };

  return {
    dialect: 'postgres',
    query: queryOn(pool),
    transaction<T>(mode: 'write' | 'read', work: () => Work<T>) {
      // READ ONLY REPEATABLE READ: every statement of the body sees the same snapshot.
      const begin = mode === 'write' ? 'BEGIN' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
      return inTransaction(pool, begin, async (client) => {
        const query = queryOn(client);
        const steps = work();
        let step = steps.next();
        while (!step.done) step = steps.next(await query(step.value));
        return step.value;
      });
    },
    // The pg client inside BEGIN is a transaction Reseolio's enqueue can join.
    lendTransaction: (fn) => inTransaction(pool, 'BEGIN', (client) => fn(queryOn(client), client)),
  };
}

/** Runs `fn` on one client between `begin` and COMMIT; ROLLBACK when it throws. */
async function inTransaction<T>(
  pool: pg.Pool,
  begin: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A client whose ROLLBACK fails is in an unknown state: the pool must not reuse it.
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
