import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort, waitFor } from '@reseolio/test-utils';
import pg from 'pg';

/**
 * A real PgBouncer (Debian's `pgbouncer`) in front of the test PostgreSQL, run in the
 * foreground as a child of the test process on a free port, in transaction pooling mode with
 * a small server pool so that client connections really share server connections.
 */

/**
 * The `pgbouncer` binary: `PGBOUNCER_BIN` when set (only there), else the first on `PATH`,
 * `/usr/sbin` (Debian's place, often not on a user's `PATH`) or `/usr/local/sbin`.
 */
export function findPgbouncer(): string | undefined {
  const fromEnv = process.env.PGBOUNCER_BIN;
  const candidates = fromEnv
    ? [fromEnv]
    : [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']
        .filter((dir) => dir.length > 0)
        .map((dir) => join(dir, 'pgbouncer'));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface PgbouncerOptions {
  /** The PostgreSQL PgBouncer forwards to (a `postgres://` URL with user and database). */
  targetUrl: string;
  /** Server connections per (database, user) pair: `default_pool_size`. */
  poolSize: number;
}

export interface Pgbouncer {
  /** The target's URL with host and port replaced by PgBouncer's. */
  readonly url: string;
  /** PgBouncer's console (`SHOW POOLS`, `SHOW CLIENTS`…), as a stats user. */
  readonly consoleUrl: string;
  /** Everything PgBouncer logged (it logs to stderr). */
  log(): string;
  /** Runs `SHOW <what>` on the console; rows of the pooled database only when it has one. */
  show(what: 'CLIENTS' | 'SERVERS' | 'POOLS'): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

/** A value of a libpq-style `key=value` list, quoted when needed. */
function connValue(value: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(value) ? value : `'${value.replace(/['\\]/g, '\\$&')}'`;
}

export async function startPgbouncer(options: PgbouncerOptions): Promise<Pgbouncer> {
  const binary = findPgbouncer();
  if (!binary) throw new Error('pgbouncer is not installed (apt-get install -y pgbouncer)');
  // A port found free can be taken before PgBouncer binds it: then it exits and we try again.
  let lastError: unknown;
  for (let tries = 0; tries < 3; tries++) {
    try {
      return await startOnce(binary, options, await freePort());
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(
  binary: string,
  { targetUrl, poolSize }: PgbouncerOptions,
  port: number,
): Promise<Pgbouncer> {
  const target = new URL(targetUrl);
  const user = decodeURIComponent(target.username) || 'postgres';
  const password = decodeURIComponent(target.password);
  const database = decodeURIComponent(target.pathname.slice(1)) || user;
  const host = target.searchParams.get('host') ?? target.hostname;
  const dir = await mkdtemp(join(tmpdir(), 'reseolio-pgbouncer-'));
  // PgBouncer refuses to run as root; as root we hand it `-u nobody`, which must be able to
  // read its files (and nothing it writes: no pidfile, no log file, no unix socket).
  await chmod(dir, 0o755);
  const ini = join(dir, 'pgbouncer.ini');
  const userlist = join(dir, 'userlist.txt');
  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
  // Clients are trusted; PgBouncer logs in to PostgreSQL with the password listed here.
  await writeFile(userlist, `${quote(user)} ${quote(password)}\n`, { mode: 0o644 });
  await writeFile(
    ini,
    [
      '[databases]',
      `${database} = host=${connValue(host)} port=${target.port || '5432'} dbname=${connValue(database)}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${userlist}`,
      `stats_users = ${user}`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      'max_client_conn = 200',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const args = process.getuid?.() === 0 ? ['-u', 'nobody', ini] : [ini];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (chunk) => {
    log += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    log += chunk;
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  child.once('error', (err) => {
    log += `spawn error: ${err.message}\n`;
  });

  const auth = `${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}`;
  const url = `postgres://${auth}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const consoleUrl = `postgres://${auth}@127.0.0.1:${port}/pgbouncer`;

  const stop = async () => {
    if (!exited) {
      // SIGTERM: immediate shutdown (SIGINT would wait for every client to leave).
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Ready when a query goes through it to PostgreSQL; a PgBouncer that exited (port taken,
  // bad config) fails at once with its log.
  try {
    await waitFor(async () => {
      if (exited) throw new Error(`pgbouncer exited while starting:\n${log}`);
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => {});
      }
    }, 30_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\npgbouncer log:\n${log}`, { cause: err });
  }

  return {
    url,
    consoleUrl,
    log: () => log,
    async show(what) {
      const client = new pg.Client({ connectionString: consoleUrl });
      await client.connect();
      try {
        const { rows } = await client.query(`SHOW ${what}`);
        return rows.filter((row) => row.database === undefined || row.database === database);
      } finally {
        await client.end();
      }
    },
    stop,
  };
}
