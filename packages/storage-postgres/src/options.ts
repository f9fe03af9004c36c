import type { Pool } from 'pg';
import { describeValue, StorageConfigError } from 'reseolio/storage';

/** Options for {@link createPostgresStorage}. Give exactly one of `connectionString` or `pool`. */
export interface PostgresStorageOptions {
  /**
   * A `postgres://` or `postgresql://` URL (the scheme in any case). The adapter creates its
   * own `pg.Pool` from it and closes it on `close()`.
   */
  connectionString?: string | undefined;
  /**
   * An existing `pg.Pool` to borrow. The adapter never ends it: its owner does. The
   * LISTEN connection is a separate `pg.Client` built from `pool.options`.
   */
  pool?: Pool | undefined;
  /**
   * The PostgreSQL schema holding Reseolio's tables and migrations table. Lowercase letters,
   * digits and `_`, starting with a letter or `_`, at most 50 characters (the notification
   * channel name is derived from it and PostgreSQL caps identifiers at 63). A schema of
   * Reseolio's own: `public`, `information_schema` and `pg_*` are refused.
   * @default 'reseolio'
   */
  schema?: string | undefined;
  /**
   * Maximum connections in the pool the adapter creates from `connectionString`. Ignored with
   * a borrowed `pool`. The LISTEN connection is one more, outside the pool.
   * @default 10
   */
  poolSize?: number | undefined;
  /**
   * Keep one connection LISTENing for wake-ups from every process. Turn it off behind a
   * transaction-mode pooler (PgBouncer `pool_mode=transaction`), where LISTEN does not work:
   * `capabilities.crossProcessNotify` becomes false and the engine polls instead.
   * @default true
   */
  listen?: boolean | undefined;
  /**
   * Run the engine's statements as named prepared statements (parsed and planned once per
   * connection). Turn it off behind a pooler that cannot keep them, such as PgBouncer before
   * 1.21 in `pool_mode=transaction`.
   * @default true
   */
  preparedStatements?: boolean | undefined;
  /**
   * Apply the shipped migrations on `init()`. When false, `init()` only checks that the
   * tables exist.
   * @default true
   */
  migrate?: boolean | undefined;
  /**
   * How long, in milliseconds, enqueue, ack and sweep keep retrying after a connection error
   * (server restart, terminated backend, network reset) before giving up. Acks are fenced, so
   * re-sending one is safe. Claims and heartbeats are never re-sent (their lease times would be
   * stale); the engine sends new ones. An integer from 0 to 2147483647.
   * @default 30000
   */
  connectionRetryMs?: number | undefined;
}

/** Options after validation, with every default filled in. */
export interface ResolvedPostgresStorageOptions {
  readonly connectionString: string | undefined;
  readonly pool: Pool | undefined;
  readonly schema: string;
  readonly poolSize: number;
  readonly listen: boolean;
  readonly migrate: boolean;
  readonly preparedStatements: boolean;
  readonly connectionRetryMs: number;
}

export const DEFAULT_SCHEMA = 'reseolio';

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,49}$/;
/** The longest wait Reseolio accepts anywhere, in milliseconds (the longest Node.js timer). */
const MAX_WAIT_MS = 2 ** 31 - 1;

/**
 * Schemas Reseolio must not use. It owns its schema: migrations create and alter tables in it,
 * and `public` is where applications keep theirs (a `jobs` table of the app's own would
 * collide). `information_schema` and `pg_*` belong to PostgreSQL itself.
 */
function isForeignSchema(schema: string): boolean {
  return schema === 'public' || schema === 'information_schema' || schema.startsWith('pg_');
}

/** Validates options and fills defaults; throws `StorageConfigError` saying what to fix. */
export function resolveOptions(options: PostgresStorageOptions): ResolvedPostgresStorageOptions {
  if (options === null || typeof options !== 'object') {
    throw new StorageConfigError(
      'createPostgresStorage() needs an options object: { connectionString } or { pool }.',
    );
  }
  const { connectionString, pool } = options;
  if ((connectionString === undefined) === (pool === undefined)) {
    throw new StorageConfigError(
      'createPostgresStorage() needs exactly one of `connectionString` (the adapter owns its ' +
        'pool) or `pool` (an existing pg.Pool the adapter borrows).',
    );
  }
  // Schemes are case-insensitive (RFC 3986), and the core routes 'POSTGRES://' here.
  if (
    connectionString !== undefined &&
    (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//i.test(connectionString))
  ) {
    // Only the scheme is echoed: the rest may hold a password.
    const scheme =
      typeof connectionString === 'string'
        ? /^([a-z][a-z0-9+.-]*):/i.exec(connectionString)?.[1]
        : undefined;
    throw new StorageConfigError(
      '`connectionString` must be a postgres:// or postgresql:// URL, got ' +
        (scheme !== undefined
          ? `one with the scheme ${describeValue(`${scheme}:`, 40)}.`
          : typeof connectionString === 'string'
            ? 'a string without a scheme.'
            : `${describeValue(connectionString)}.`),
    );
  }
  if (pool !== undefined && typeof (pool as { connect?: unknown }).connect !== 'function') {
    throw new StorageConfigError('`pool` must be a pg.Pool.');
  }
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw new StorageConfigError(
      `\`schema\` must match ${SCHEMA_PATTERN} (got ${describeValue(schema)}).`,
    );
  }
  if (isForeignSchema(schema)) {
    throw new StorageConfigError(
      `\`schema\` cannot be ${describeValue(schema)}: Reseolio owns its schema (its migrations ` +
        "create and change tables there), so it must not share one with the application's " +
        "tables or PostgreSQL's system catalogs. Leave `schema` out for 'reseolio', or pass " +
        "a name of its own such as 'reseolio_orders'.",
    );
  }
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new StorageConfigError(
      `\`poolSize\` must be a positive integer, got ${describeValue(options.poolSize)}.`,
    );
  }
  const connectionRetryMs = options.connectionRetryMs ?? 30_000;
  if (
    !Number.isInteger(connectionRetryMs) ||
    connectionRetryMs < 0 ||
    connectionRetryMs > MAX_WAIT_MS
  ) {
    throw new StorageConfigError(
      `\`connectionRetryMs\` must be an integer from 0 to ${MAX_WAIT_MS} milliseconds, got ` +
        `${describeValue(options.connectionRetryMs)}.`,
    );
  }
  for (const key of ['listen', 'migrate', 'preparedStatements'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      throw new StorageConfigError(
        `\`${key}\` must be a boolean, got ${describeValue(options[key])}.`,
      );
    }
  }
  return {
    connectionString,
    pool,
    schema,
    poolSize,
    listen: options.listen ?? true,
    migrate: options.migrate ?? true,
    preparedStatements: options.preparedStatements ?? true,
    connectionRetryMs,
  };
}
