// Types inject('databaseUrl'), provided by the shared global setup.

import { createHash } from 'node:crypto';
import type {} from '@reseolio/test-utils/postgres-global-setup';
import pg from 'pg';
import { inject } from 'vitest';
import {
  createPostgresStorage,
  type PostgresStorage,
  type PostgresStorageOptions,
} from '../src/index.ts';
import { loadMigrations, type Migration, migrate } from '../src/migrate.ts';
import { schemaNames } from '../src/schema-names.ts';

export function databaseUrl(): string {
  return inject('databaseUrl');
}

/**
 * A schema per test, named from a hash of its file and name (pg-boss style), so tests never
 * share state and a rerun finds the same name to clean up.
 */
export function schemaFor(scope: string, testName: string): string {
  return `t_${createHash('sha1').update(`${scope}\0${testName}`).digest('hex').slice(0, 24)}`;
}

/** Runs one statement on a short-lived connection outside any adapter. */
export async function adminQuery(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** An adapter on `schema`: its own small pool, or the borrowed `pool` when one is given. */
export function storageOn(
  schema: string,
  options: Omit<PostgresStorageOptions, 'schema'> = {},
): PostgresStorage {
  const connection = options.pool ? {} : { connectionString: databaseUrl(), poolSize: 4 };
  // options may override the connection string (to tag it with an application_name).
  return createPostgresStorage({ ...connection, schema, ...options });
}

/**
 * Leaves `schema` as a release that shipped up to the migration tagged `lastTag` left it, for
 * upgrade tests. Returns every shipped migration and a small pool on the database, which the
 * caller ends.
 */
export async function schemaAt(
  schema: string,
  lastTag: string,
): Promise<{ pool: pg.Pool; shipped: Migration[] }> {
  const shipped = await loadMigrations();
  const last = shipped.findIndex((m) => m.tag === lastTag);
  if (last < 0) throw new Error(`no shipped migration is tagged ${lastTag}`);
  const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
  await migrate(pool, schemaNames(schema), shipped.slice(0, last + 1));
  return { pool, shipped };
}

/** The tags of the migrations applied to `schema`, in order. */
export async function appliedTags(schema: string): Promise<string[]> {
  const { rows } = await adminQuery(
    `SELECT tag FROM "${schema}".__reseolio_migrations ORDER BY idx`,
  );
  return rows.map((row) => row.tag as string);
}
