import { UsageError } from './exit-codes.ts';

/** Where the storage URL may come from, in the order they are looked at. */
export interface StorageSources {
  /** `--storage <url>`. */
  option?: string | undefined;
  /** The process environment: `RESEOLIO_STORAGE`, then `DATABASE_URL`. */
  env: NodeJS.ProcessEnv;
}

/** The storage URL a command uses: `--storage`, else `RESEOLIO_STORAGE`, else `DATABASE_URL`. */
export function resolveStorageUrl({ option, env }: StorageSources): string {
  for (const url of [option, env.RESEOLIO_STORAGE, env.DATABASE_URL]) {
    if (url !== undefined && url.trim() !== '') return url.trim();
  }
  throw new UsageError(
    'No storage given: pass --storage <url>, or set RESEOLIO_STORAGE or DATABASE_URL ' +
      "(for example 'postgres://user@host:5432/app' or 'sqlite:./reseolio.db').",
  );
}
