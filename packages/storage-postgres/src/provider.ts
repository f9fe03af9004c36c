import type { StorageProvider } from 'reseolio/storage';
import { createPostgresStorage } from './postgres-storage.ts';

/**
 * What `new Reseolio({ storage: 'postgres://…' })` uses: the engine imports this package
 * lazily for a `postgres:` or `postgresql:` URL and makes the adapter here, which it then owns
 * (it calls `init()` and `close()`).
 */
export const storageProvider: StorageProvider = Object.freeze({
  schemes: Object.freeze(['postgres', 'postgresql']),
  fromUrl: (url: string) => createPostgresStorage({ connectionString: url }),
});
