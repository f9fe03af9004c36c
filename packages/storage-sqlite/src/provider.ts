import { describeValue, StorageConfigError, type StorageProvider } from 'reseolio/storage';
import { createSqliteStorage } from './sqlite-storage.ts';

/**
 * What `new Reseolio({ storage: 'sqlite:./jobs.db' })` uses (also the engine's default,
 * `sqlite:./reseolio.db`): the engine imports this package lazily for a `sqlite:` URL and
 * makes the adapter here, which it then owns (it calls `init()` and `close()`).
 */
export const storageProvider: StorageProvider = Object.freeze({
  schemes: Object.freeze(['sqlite']),
  fromUrl: (url: string) => createSqliteStorage({ filename: sqliteFilename(url) }),
});

/**
 * `sqlite:./a.db`, `sqlite://./a.db`, `sqlite:///abs/a.db`, `sqlite::memory:` → a filename.
 * The scheme may be in any case (`SQLite:`).
 */
export function sqliteFilename(url: string): string {
  if (!/^sqlite:/i.test(url)) {
    throw new StorageConfigError(`${describeValue(url)} is not a sqlite: URL.`);
  }
  let rest = url.slice('sqlite:'.length);
  if (rest.startsWith('//')) rest = rest.slice(2);
  if (rest === ':memory:') return rest;
  if (rest.length === 0) {
    throw new StorageConfigError(
      `The SQLite URL ${describeValue(url)} has no file name: use 'sqlite:./file.db'.`,
    );
  }
  return rest;
}
