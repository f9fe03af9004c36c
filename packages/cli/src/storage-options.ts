import { type Command, Option } from 'commander';
import { resolveStorageUrl } from './storage-url.ts';

/** The options every command that reaches storage takes. */
export interface StorageOptionValues {
  storage?: string | undefined;
  schema?: string | undefined;
}

/** Adds `--storage` and `--schema` to `command`. */
export function storageOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--storage <url>',
        'postgres://… or sqlite:… (default: $RESEOLIO_STORAGE, else $DATABASE_URL)',
      ),
    )
    .addOption(
      new Option('--schema <name>', "PostgreSQL schema of Reseolio's tables (default: reseolio)"),
    );
}

/** The storage URL of a command's options and the environment. */
export function storageUrlOf(options: StorageOptionValues): string {
  return resolveStorageUrl({ option: options.storage, env: process.env });
}
