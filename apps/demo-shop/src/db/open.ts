import type { ShopConfig } from '../config.ts';
import { openPostgres } from './postgres.ts';
import type { ShopDatabase } from './repository.ts';
import { openSqlite } from './sqlite.ts';

/** PostgreSQL when `DATABASE_URL` is set, else the embedded SQLite file. */
export function openDatabase(
  config: Pick<ShopConfig, 'databaseUrl' | 'sqliteFile'>,
): Promise<ShopDatabase> {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openSqlite(config.sqliteFile);
}
