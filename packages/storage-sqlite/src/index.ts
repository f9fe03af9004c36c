export { type SqliteErrorContext, SqliteStorageError } from './errors.ts';
export { MIGRATIONS_TABLE } from './migrate.ts';
export { DEFAULT_BUSY_TIMEOUT_MS, type SqliteStorageOptions } from './options.ts';
export { storageProvider } from './provider.ts';
export { createSqliteStorage, SqliteStorage } from './sqlite-storage.ts';
