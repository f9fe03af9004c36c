/**
 * startPrivatePostgres: a server of our own that a test may crash. Checks that it answers,
 * that restartImmediate() is a crash (a commit made without a WAL flush is lost, a synchronous
 * one survives) after which it answers again, and that stop() leaves nothing behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { expect, it } from 'vitest';
import { startPrivatePostgres } from '../src/index.ts';

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

it('starts, answers, survives an immediate restart, and stops without a trace', async () => {
  const server = await startPrivatePostgres();
  try {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const [info] = await query<{ listen: string; delay: string }>(
      server.url,
      `SELECT current_setting('listen_addresses') AS listen, current_setting('wal_writer_delay') AS delay`,
    );
    expect(info).toEqual({ listen: '127.0.0.1', delay: '10s' });

    await query(server.url, 'CREATE TABLE t (v text)');
    await query(server.url, "INSERT INTO t VALUES ('synchronous')");
    // Committed without waiting for the WAL flush, and nothing flushes it before the crash:
    // the crash must lose it (this is how a claim is lost; see DEFAULT_SETTINGS).
    await query(
      server.url,
      "BEGIN; SET LOCAL synchronous_commit = off; INSERT INTO t VALUES ('asynchronous'); COMMIT",
    );
    const pidBefore = server.postmasterPid();
    expect(pidBefore).toBeGreaterThan(0);

    await server.restartImmediate();

    expect(server.postmasterPid()).not.toBe(pidBefore);
    const rows = await query<{ v: string }>(server.url, 'SELECT v FROM t ORDER BY v');
    expect(rows.map((row) => row.v)).toEqual(['synchronous']);
    // It recovered from a crash, not from a clean shutdown.
    expect(readFileSync(server.logFile, 'utf8')).toMatch(
      /not properly shut down|automatic recovery/,
    );
  } finally {
    await server.stop();
  }
  expect(server.postmasterPid()).toBeUndefined();
  expect(existsSync(dirname(server.dataDir))).toBe(false);
  await expect(query(server.url, 'SELECT 1')).rejects.toThrow();
}, 60_000);

it('crash() and start() separately', async () => {
  const server = await startPrivatePostgres({ settings: { max_connections: 20 } });
  try {
    await server.crash();
    expect(server.postmasterPid()).toBeUndefined();
    await expect(query(server.url, 'SELECT 1')).rejects.toThrow();
    await server.start();
    const [row] = await query<{ max: string }>(
      server.url,
      "SELECT current_setting('max_connections') AS max",
    );
    expect(row?.max).toBe('20');
  } finally {
    await server.stop();
  }
}, 60_000);
