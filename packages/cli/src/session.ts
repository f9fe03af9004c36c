import { Reseolio } from 'reseolio';
import type { MigrationStatus } from 'reseolio/storage';
import { CommandFailure } from './exit-codes.ts';
import { type CliStorage, openStorage } from './open-storage.ts';
import { type StorageOptionValues, storageUrlOf } from './storage-options.ts';

/** What a command works with: the engine (public API) and its adapter (for what only it has). */
export interface Session {
  engine: Reseolio;
  storage: CliStorage;
}

/**
 * Opens the storage, refuses a database that is not fully migrated (the CLI never migrates as
 * a side effect: an older or newer CLI must not change a production schema unasked), starts an
 * engine that runs no jobs on it, runs `use`, and closes everything, also when `use` throws.
 */
export async function withSession<T>(
  options: StorageOptionValues,
  use: (session: Session) => Promise<T>,
  { poolSize }: { poolSize?: number } = {},
): Promise<T> {
  const storage = await openStorage(storageUrlOf(options), { schema: options.schema, poolSize });
  try {
    assertMigrated(await storage.migrationStatus());
    const engine = new Reseolio({ storage, workerConcurrency: 0 });
    try {
      await engine.init();
      return await use({ engine, storage });
    } finally {
      await engine.stop();
    }
  } finally {
    await storage.close();
  }
}

function assertMigrated(status: MigrationStatus): void {
  if (status.pending.length === 0) return;
  const what =
    status.applied === 0
      ? 'This storage has no Reseolio tables yet'
      : `This storage lacks ${status.pending.length} of the ${status.shipped} migrations this CLI knows (${status.pending.map((m) => m.tag).join(', ')})`;
  throw new CommandFailure(
    `${what}: run \`reseolio migrate\` (or start your app on this Reseolio version) first.`,
  );
}
