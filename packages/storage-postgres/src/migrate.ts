import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Pool, PoolClient } from 'pg';
import type { MigrationStatus } from 'reseolio/storage';
import { SOURCE_SCHEMA } from './schema.ts';
import { quoteIdent, type SchemaNames } from './schema-names.ts';

/**
 * Applies the drizzle-kit migrations shipped in `drizzle/`.
 *
 * Why not drizzle's migrator: it records into `drizzle.__drizzle_migrations` by default (the
 * host app's own table, if it uses drizzle), takes no lock, and cannot change the schema name
 * baked into the generated SQL. So we read drizzle-kit's journal ourselves and:
 *
 * - rewrite the schema: drizzle-kit writes the fixed `"reseolio"` from `schema.ts`. Every
 *   occurrence of that quoted identifier in our generated SQL is the schema qualifier (no
 *   table, column or index is named `reseolio`, and {@link rewriteSchema} refuses SQL where it
 *   appears in any other position), so replacing the quoted token is exact. Generating
 *   schema-less SQL instead would rely on `search_path`, which a borrowed pool may set to
 *   anything.
 * - record applied migrations in `<schema>.__reseolio_migrations`, inside our own schema.
 * - apply every pending migration in one transaction that first takes
 *   `pg_advisory_xact_lock` on a key derived from the schema, then creates the schema and the
 *   migrations table if missing, reads what is applied, applies the rest, records them and
 *   commits. Concurrent migrators queue on the lock; the next one in finds everything applied
 *   and commits nothing, so any number of processes may call `init()` at once on an empty
 *   database.
 *
 * Why a transaction lock and not a session `pg_advisory_lock` around the whole run, as earlier
 * versions took: behind a transaction-mode pooler (PgBouncer `pool_mode = transaction`) every
 * statement outside a transaction may run on a different server connection, so a session lock,
 * the statements it is meant to cover and the unlock land on different sessions. It then
 * serialises nothing, and a lock taken on one server connection and unlocked on another stays
 * held by an idle pooled connection, hanging later migrators. A transaction keeps one server
 * connection from BEGIN to COMMIT, and a transaction lock is released by COMMIT or ROLLBACK
 * (or the end of the session), so it cannot be left behind. It works the same over a direct
 * connection.
 *
 * The lock alone is not enough: PostgreSQL brings a session's catalog caches up to date when a
 * transaction starts and when it first locks a relation, not when it is granted an advisory
 * lock. A migrator that waited for the lock inside its transaction could still believe missing
 * the schema that the previous holder created meanwhile (its session looked it up before the
 * wait), so its `CREATE SCHEMA IF NOT EXISTS` would insert it again and fail on pg_namespace's
 * unique index. So right after the advisory lock it locks a relation, which catches up with
 * everything committed while it waited.
 *
 * One transaction for all pending migrations, not one each: a first install or an upgrade
 * lands whole or not at all (no half-migrated schema, and a failed install leaves not even
 * the schema), with one lock and one check. This requires every shipped statement to be
 * allowed in a transaction block and to be compatible with earlier migrations of the same
 * transaction: no `CREATE INDEX CONCURRENTLY` or `VACUUM`, no `ALTER TYPE … ADD VALUE` whose
 * value a later migration uses (a test refuses shipped SQL containing any of them).
 *
 * Before taking the lock, one plain `SELECT` of the migrations table tells whether anything is
 * pending; when nothing is (every start but the first after an upgrade), no lock is taken and
 * no transaction is opened. On a never-migrated schema that read fails with undefined_table,
 * which PostgreSQL logs once per starting process.
 */

const MIGRATIONS_DIR = new URL('../drizzle/', import.meta.url);

interface Journal {
  entries: { idx: number; when: number; tag: string }[];
}

export interface Migration {
  idx: number;
  tag: string;
  when: number;
  /** sha256 of the file as shipped, recorded for diagnosis. */
  hash: string;
  /** Statements as drizzle-kit wrote them (source schema). */
  statements: string[];
}

export async function loadMigrations(): Promise<Migration[]> {
  const journal = JSON.parse(
    await readFile(new URL('meta/_journal.json', MIGRATIONS_DIR), 'utf8'),
  ) as Journal;
  const migrations: Migration[] = [];
  for (const entry of journal.entries) {
    const text = await readFile(new URL(`${entry.tag}.sql`, MIGRATIONS_DIR), 'utf8');
    migrations.push({
      idx: entry.idx,
      tag: entry.tag,
      when: entry.when,
      hash: createHash('sha256').update(text).digest('hex'),
      statements: text
        .split('--> statement-breakpoint')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    });
  }
  return migrations.sort((a, b) => a.idx - b.idx);
}

const QUOTED_SOURCE = `"${SOURCE_SCHEMA}"`;
const CREATE_SOURCE_SCHEMA = `CREATE SCHEMA ${QUOTED_SOURCE}`;

/**
 * Points one generated statement at `schema`. `CREATE SCHEMA` becomes `IF NOT EXISTS`, since
 * the migrator creates the schema first to hold its migrations table.
 */
export function rewriteSchema(statement: string, schema: string): string {
  let rest = statement;
  let out = '';
  if (rest.startsWith(CREATE_SOURCE_SCHEMA)) {
    out = `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`;
    rest = rest.slice(CREATE_SOURCE_SCHEMA.length);
  }
  for (;;) {
    const at = rest.indexOf(QUOTED_SOURCE);
    if (at === -1) return out + rest;
    // Anything but `"reseolio".` would mean the word is used for something else (a string, a
    // column): replacing it blindly could change meaning, so refuse to guess.
    if (rest[at + QUOTED_SOURCE.length] !== '.') {
      throw new Error(
        `Migration statement uses ${QUOTED_SOURCE} other than as a schema qualifier: ${statement}`,
      );
    }
    out += rest.slice(0, at) + quoteIdent(schema);
    rest = rest.slice(at + QUOTED_SOURCE.length);
  }
}

/** Applies the pending migrations; `migrations` defaults to the shipped ones (tests pass others). */
export async function migrate(
  pool: Pool,
  names: SchemaNames,
  migrations?: readonly Migration[],
): Promise<void> {
  const shipped = migrations ?? (await loadMigrations());
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // Fast path, one statement and no lock: every process after the first finds all applied.
    const applied = await appliedMigrations(client, names);
    if (applied !== undefined && shipped.every((m) => applied.has(m.idx))) return;
    await client.query('BEGIN');
    try {
      await applyPending(client, names, shipped);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    // A client that failed mid-way is destroyed, not pooled, in case its ROLLBACK did not go
    // through: its transaction (and the lock) ends with its session.
    client.release(broken);
  }
}

/**
 * Reads what is applied and lists what `migrate` would apply, with its SQL. Reads only: it
 * creates nothing and takes no lock, so a dry run changes nothing.
 */
export async function migrationStatus(
  pool: Pool,
  names: SchemaNames,
  migrations?: readonly Migration[],
): Promise<MigrationStatus> {
  const shipped = migrations ?? (await loadMigrations());
  const client = await pool.connect();
  let applied: Set<number>;
  try {
    applied = (await appliedMigrations(client, names)) ?? new Set();
  } catch (err) {
    client.release(err as Error);
    throw err;
  }
  client.release();
  return {
    shipped: shipped.length,
    applied: applied.size,
    pending: shipped
      .filter((m) => !applied.has(m.idx))
      .map((m) => ({ tag: m.tag, sql: migrationSql(m, names.schema) })),
  };
}

/** One migration's statements as `applyPending` runs them, as one SQL text. */
function migrationSql(migration: Migration, schema: string): string {
  return migration.statements
    .map((statement) => {
      const text = rewriteSchema(statement, schema);
      return text.endsWith(';') ? text : `${text};`;
    })
    .join('\n\n');
}

/**
 * The applied migration indexes, or undefined when the migrations table does not exist.
 * Read on a checked-out client: `pool.query` would destroy the connection on the expected
 * undefined_table error.
 */
async function appliedMigrations(
  client: PoolClient,
  names: SchemaNames,
): Promise<Set<number> | undefined> {
  try {
    const { rows } = await client.query(`SELECT idx FROM ${names.migrations}`);
    return new Set(rows.map((r) => r.idx as number));
  } catch (err) {
    // undefined_table, also raised when the schema does not exist: never migrated.
    if ((err as { code?: unknown }).code === '42P01') return undefined;
    throw err;
  }
}

/** Runs inside the caller's transaction; everything it does commits or rolls back together. */
async function applyPending(
  client: PoolClient,
  names: SchemaNames,
  migrations: readonly Migration[],
): Promise<void> {
  // First, before anything else in the transaction: the lock needs no schema to exist, and
  // it must cover the creation of the schema, which would otherwise race (two concurrent
  // `CREATE SCHEMA IF NOT EXISTS` can both miss it and one then fails on pg_namespace).
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
    migrationLockName(names),
  ]);
  // Then catch up with the catalog changes committed while we waited (see the header): the
  // first lock this transaction takes on a relation makes PostgreSQL process them. Nothing
  // before this point touches pg_description; ACCESS SHARE needs only SELECT, which every role
  // has on it by default, and conflicts with nothing but ACCESS EXCLUSIVE.
  await client.query('LOCK TABLE pg_catalog.pg_description IN ACCESS SHARE MODE');
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(names.schema)}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${names.migrations} (
       idx integer PRIMARY KEY,
       tag text NOT NULL,
       hash text NOT NULL,
       created_at bigint NOT NULL
     )`,
  );
  // Read again under the lock: another migrator may have committed since the fast path.
  const applied = new Set(
    (await client.query(`SELECT idx FROM ${names.migrations}`)).rows.map((r) => r.idx as number),
  );
  for (const migration of migrations) {
    if (applied.has(migration.idx)) continue;
    try {
      for (const statement of migration.statements) {
        await client.query(rewriteSchema(statement, names.schema));
      }
      await client.query(
        `INSERT INTO ${names.migrations} (idx, tag, hash, created_at) VALUES ($1, $2, $3, $4)`,
        [migration.idx, migration.tag, migration.hash, migration.when],
      );
    } catch (err) {
      throw new Error(`Migration ${migration.tag} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/**
 * What the advisory lock key is hashed from. Keyed on the schema, so installs in different
 * schemas migrate independently. The same key as the session lock of earlier versions: a
 * transaction lock and a session lock on one key exclude each other, so over a direct
 * connection old and new migrators are still serialised during a rolling deploy.
 */
export function migrationLockName(names: SchemaNames): string {
  return `reseolio:migrate:${names.schema}`;
}

/** With `migrate: false`: true when the jobs table exists. */
export async function tablesExist(pool: Pool, names: SchemaNames): Promise<boolean> {
  const { rows } = await pool.query('SELECT to_regclass($1) AS jobs', [names.jobs]);
  return rows[0]?.jobs != null;
}
