export { isConnectionError } from './connection-errors.ts';
export { PostgresStorageError } from './errors.ts';
export type { PostgresStorageOptions } from './options.ts';
export { createPostgresStorage, PostgresStorage } from './postgres-storage.ts';
export { storageProvider } from './provider.ts';
