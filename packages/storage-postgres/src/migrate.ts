import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Pool, PoolClient } from 'pg';
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
 * - serialise migrators with a session `pg_advisory_lock` held on one dedicated connection for
 *   the whole run. A transaction-scoped lock would not do: each migration commits on its own,
 *   and the lock must cover the check of what is applied as well as every apply. Processes
 *   that wait on the lock then find everything applied and do nothing, so any number of
 *   processes may call `init()` at once on an empty database.
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

export async function migrate(pool: Pool, names: SchemaNames): Promise<void> {
  const migrations = await loadMigrations();
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // Keyed on the schema, so installs in different schemas migrate independently.
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
      `reseolio:migrate:${names.schema}`,
    ]);
    try {
      await applyPending(client, names, migrations);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [
        `reseolio:migrate:${names.schema}`,
      ]);
    }
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    // A client that failed mid-way is destroyed, not pooled: its session (and any lock it
    // might still hold) ends with it.
    client.release(broken);
  }
}

async function applyPending(
  client: PoolClient,
  names: SchemaNames,
  migrations: Migration[],
): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(names.schema)}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${names.migrations} (
       idx integer PRIMARY KEY,
       tag text NOT NULL,
       hash text NOT NULL,
       created_at bigint NOT NULL
     )`,
  );
  const applied = new Set(
    (await client.query(`SELECT idx FROM ${names.migrations}`)).rows.map((r) => r.idx as number),
  );
  for (const migration of migrations) {
    if (applied.has(migration.idx)) continue;
    // One transaction per migration: its DDL and its record commit together or not at all.
    await client.query('BEGIN');
    try {
      for (const statement of migration.statements) {
        await client.query(rewriteSchema(statement, names.schema));
      }
      await client.query(
        `INSERT INTO ${names.migrations} (idx, tag, hash, created_at) VALUES ($1, $2, $3, $4)`,
        [migration.idx, migration.tag, migration.hash, migration.when],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw new Error(`Migration ${migration.tag} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** With `migrate: false`: true when the jobs table exists. */
export async function tablesExist(pool: Pool, names: SchemaNames): Promise<boolean> {
  const { rows } = await pool.query('SELECT to_regclass($1) AS jobs', [names.jobs]);
  return rows[0]?.jobs != null;
}
