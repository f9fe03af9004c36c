/**
 * Where a database stands against the migrations an adapter ships, as the first-party adapters
 * report it (`migrationStatus()`, used by `reseolio migrate --dry-run` and `reseolio doctor`).
 * Optional for adapters: the engine never calls it.
 */
export interface MigrationStatus {
  /** How many migrations this version of the adapter ships. */
  shipped: number;
  /**
   * Migrations recorded as applied. More than `shipped - pending.length` when a newer version
   * migrated the database.
   */
  applied: number;
  /** The shipped migrations not applied yet, in the order `init()` would apply them. */
  pending: PendingMigration[];
}

/** A shipped migration that `init()` has not applied yet. */
export interface PendingMigration {
  /** Its name, such as `0007_observability`. */
  tag: string;
  /**
   * Its statements exactly as `init()` would run them (on PostgreSQL, with the configured
   * schema's name), each ending with `;`, separated by blank lines.
   */
  sql: string;
}
