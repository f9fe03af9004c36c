import type { Pool } from 'pg';
import { clientExecutor, type SqlExecutor } from './sql-executor.ts';

/**
 * Runs `work` in a transaction of our own on one pooled client: `BEGIN`, `work`, `COMMIT`, or
 * `ROLLBACK` when it throws. A `work` that finds nothing to do may simply return: a
 * transaction that wrote nothing commits as it would roll back.
 *
 * A checked-out client has no pool listener for 'error': when its backend dies under the
 * transaction it would emit one nobody handles, and crash the process. The statement in
 * flight fails with the same error, which is what the caller acts on (a connection error is
 * re-sent by the adapter's retry policy). A client that failed mid-way is destroyed, not
 * pooled, in case its ROLLBACK did not go through: its transaction then ends with its
 * session, uncommitted.
 */
export async function inTransaction<T>(
  pool: Pool,
  prepared: boolean,
  work: (tx: SqlExecutor) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  client.on('error', ignore);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      const result = await work(clientExecutor(client, prepared));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.off('error', ignore);
    client.release(broken);
  }
}

function ignore(): void {}
