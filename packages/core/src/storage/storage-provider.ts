import type { StorageAdapter } from './storage.ts';

/**
 * How a storage URL becomes an adapter. An adapter package exports one as `storageProvider`:
 * the engine imports the package lazily when the `storage` option is a URL with one of its
 * schemes (`postgres:`/`postgresql:` load `@reseolio/storage-postgres`, `sqlite:` loads
 * `@reseolio/storage-sqlite`) and calls `fromUrl`. Any other scheme is looked up in the
 * engine's `storageProviders` option, which is how a third-party adapter adds one (`mysql:`).
 * Plain data and a function: exporting it has no side effects.
 */
export interface StorageProvider {
  /**
   * The URL schemes it handles: lowercase, without the colon (`['postgres', 'postgresql']`).
   * A URL's scheme matches in any case (`POSTGRES://` is `postgres`).
   */
  readonly schemes: readonly string[];
  /**
   * A new adapter for `url`, whose scheme is one of `schemes`; not yet `init()`ed. The engine
   * owns it: `start()` initializes it and `stop()` closes it. Throws `StorageConfigError` for
   * a URL it cannot use, naming what to fix.
   */
  fromUrl(url: string): StorageAdapter;
}

/** A storage URL's scheme, lowercase and without the colon; undefined when it has none. */
export function schemeOf(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
}
