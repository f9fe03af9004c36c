import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StorageAdapter } from 'reseolio';
import type { MigrationStatus } from 'reseolio/storage';
import { CommandFailure, UsageError } from './exit-codes.ts';

/** A first-party adapter: a storage adapter that can also tell its migration status. */
export interface CliStorage extends StorageAdapter {
  migrationStatus(): Promise<MigrationStatus>;
}

/** Options that shape the adapter beyond its URL. */
export interface OpenStorageOptions {
  /** PostgreSQL only: the schema holding Reseolio's tables. @default 'reseolio' */
  schema?: string | undefined;
  /**
   * PostgreSQL only: connections in the pool. One command runs one query at a time; the
   * dashboard reads several at once for each page and tab. @default 2
   */
  poolSize?: number | undefined;
}

const POSTGRES_PACKAGE = '@reseolio/storage-postgres';
const SQLITE_PACKAGE = '@reseolio/storage-sqlite';

/**
 * The adapter for `url`, not yet initialized, chosen by scheme as the engine chooses it
 * (`postgres:`/`postgresql:` and `sqlite:`), from the adapter package installed beside the CLI
 * or in the app it runs in. The PostgreSQL adapter never migrates on `init()` here: only
 * `reseolio migrate` changes the schema, and it calls `init()` on an adapter of its own.
 */
export async function openStorage(
  url: string,
  options: OpenStorageOptions & { migrate?: boolean } = {},
): Promise<CliStorage> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (options.schema !== undefined && scheme !== 'postgres' && scheme !== 'postgresql') {
    throw new UsageError('--schema applies to PostgreSQL storage only.');
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    const { createPostgresStorage } = (await importAdapter(
      POSTGRES_PACKAGE,
    )) as typeof import('@reseolio/storage-postgres');
    const storage = createPostgresStorage({
      connectionString: url,
      schema: options.schema,
      migrate: options.migrate ?? false,
      // One command at a time: a small pool, and no LISTEN connection (nothing waits for events).
      poolSize: options.poolSize ?? 2,
      listen: false,
    });
    return withMigrationStatus(storage, POSTGRES_PACKAGE);
  }
  if (scheme === 'sqlite') {
    const { storageProvider } = (await importAdapter(
      SQLITE_PACKAGE,
    )) as typeof import('@reseolio/storage-sqlite');
    return withMigrationStatus(storageProvider.fromUrl(url), SQLITE_PACKAGE);
  }
  throw new UsageError(
    `The storage URL must be postgres://… or sqlite:…, got ${scheme ? `the scheme "${scheme}:"` : 'no scheme'}` +
      (scheme === 'memory' ? ' (memory: storage lives inside one process, out of reach)' : '') +
      ". Examples: 'postgres://user@host:5432/app', 'sqlite:./reseolio.db'.",
  );
}

/** The adapter, checked to be a version that reports its migrations (peers may lag behind). */
function withMigrationStatus(storage: StorageAdapter, name: string): CliStorage {
  if (typeof (storage as Partial<CliStorage>).migrationStatus !== 'function') {
    throw new CommandFailure(
      `The installed ${name} is older than this CLI (it has no migrationStatus()): install the ` +
        'version that matches @reseolio/cli.',
    );
  }
  return storage as CliStorage;
}

/**
 * Imports an adapter package: from beside the CLI, else from the working directory (the app's
 * own `node_modules`, when the CLI is installed globally or run with npx).
 */
async function importAdapter(name: string): Promise<unknown> {
  try {
    return await import(name);
  } catch (error) {
    if (!isNotFound(error, name)) throw error;
  }
  try {
    const resolved = createRequire(join(process.cwd(), 'package.json')).resolve(name);
    return await import(pathToFileURL(resolved).href);
  } catch (error) {
    if (!isNotFound(error, name)) throw error;
  }
  throw new CommandFailure(
    `This storage URL needs the package ${name}, which is not installed: run \`npm install ${name}\` ` +
      'in your app (or beside @reseolio/cli).',
  );
}

function isNotFound(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes(name)
  );
}
