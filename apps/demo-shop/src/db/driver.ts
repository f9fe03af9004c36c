import type { SQL } from 'drizzle-orm';

/**
 * Where the two databases differ, for the one repository (`sql-repository.ts`). The shop's SQL
 * is written once in the dialect both speak (RETURNING, ON CONFLICT, quoted aliases); each
 * database's file (`sqlite.ts`, `postgres.ts`) renders its placeholders, reads its column types
 * back as numbers, and runs transactions its driver's way.
 */
export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs one statement on its own; its rows (SELECT or RETURNING), else []. */
  query: Query;
  /**
   * Runs `work` in one transaction: commits what it returns, rolls back what it throws.
   * `write` takes the write lock up front (SQLite's BEGIN IMMEDIATE), `read` sees one
   * consistent snapshot (PostgreSQL's REPEATABLE READ, READ ONLY).
   */
  transaction<T>(mode: 'write' | 'read', work: () => Work<T>): Promise<T>;
  /**
   * Runs `fn` in a transaction that Reseolio's enqueue can join: `transaction` is what to pass
   * as its `transaction` option. SQLite cannot lend one to the job store (it runs Reseolio's
   * statements on the connection in transactions of its own), so there `fn` runs without a
   * transaction and `transaction` is undefined.
   */
  lendTransaction<T>(fn: (query: Query, transaction: unknown) => Promise<T>): Promise<T>;
}

export type Query = <R>(statement: SQL) => Promise<R[]>;

/**
 * A transaction's body: it yields each statement and gets its rows back. Not an async
 * function because better-sqlite3 runs a transaction synchronously, so that nothing else on
 * the connection (Reseolio's statements included) can land inside it between two `await`s;
 * PostgreSQL's driver awaits each statement instead. Write bodies with `yield* rows(…)`.
 */
export type Work<T> = Generator<SQL, T, unknown[]>;

/** Inside a {@link Work}: runs `statement` and gives its rows. */
export function* rows<R>(statement: SQL): Generator<SQL, R[], unknown[]> {
  return (yield statement) as R[];
}
