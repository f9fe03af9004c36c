import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createPostgresStorage } from '@reseolio/storage-postgres';
import { createSqliteStorage } from '@reseolio/storage-sqlite';
import { type DurableFunction, type JobHandle, Reseolio, type StorageAdapter } from 'reseolio';
import { sql } from '../db.ts';
import type { BenchHandler, BenchPayload, Engine, EngineSession, OpenOptions } from './types.ts';

type Backend = 'pg' | 'sqlite';

interface ReseolioSettings {
  backend: Backend;
  variant: 'default' | 'fast';
  /** PostgreSQL URL, or the SQLite file path. */
  location: string;
  /** The engine class: this build's by default, another build's to compare (`otel`). */
  engineClass?: typeof Reseolio | undefined;
}

const quiet = { debug() {}, info() {}, warn() {}, error: console.error };

/**
 * Reseolio through its public API only: `durable()`, `fn.enqueue`, `fn.enqueueMany` when the
 * build has it, `handle.result()`. Default = documented defaults (pool 10, LISTEN on, poll
 * 1 s); fast = what the README recommends for throughput (a bigger pool for more workers).
 */
export class ReseolioEngine implements Engine {
  readonly key: string;
  readonly label: string;
  readonly variant: 'default' | 'fast';
  readonly settings: string;
  readonly bestConcurrency: number;
  readonly fullFeatured = true;
  readonly flowControl = true;
  readonly childArgs: string[];
  readonly #s: ReseolioSettings;

  constructor(s: ReseolioSettings) {
    this.#s = s;
    this.key = s.backend === 'pg' ? 'reseolio-pg' : 'reseolio-sqlite';
    this.label = s.backend === 'pg' ? 'Reseolio (PostgreSQL)' : 'Reseolio (SQLite)';
    this.variant = s.variant;
    this.bestConcurrency = s.variant === 'fast' ? 100 : 10;
    this.settings =
      s.backend === 'pg'
        ? s.variant === 'fast'
          ? 'poolSize 20, LISTEN on, pollIntervalMs 1000, best concurrency 100'
          : 'defaults: poolSize 10, LISTEN on, pollIntervalMs 1000'
        : s.variant === 'fast'
          ? 'WAL file, pollIntervalMs 50 (cross-process results), best concurrency 100'
          : 'defaults: WAL file, pollIntervalMs 1000';
    this.childArgs = [this.key, s.variant, s.location];
  }

  /** The same engine, database and settings, run by `engineClass` (another build). */
  withEngineClass(engineClass: typeof Reseolio): ReseolioEngine {
    return new ReseolioEngine({ ...this.#s, engineClass });
  }

  #storage(): StorageAdapter {
    if (this.#s.backend === 'pg') {
      return createPostgresStorage({
        connectionString: this.#s.location,
        poolSize: this.#s.variant === 'fast' ? 20 : 10,
      });
    }
    return createSqliteStorage({ filename: this.#s.location });
  }

  async prepare(): Promise<void> {
    if (this.#s.backend === 'sqlite') {
      for (const suffix of ['', '-wal', '-shm'])
        await rm(this.#s.location + suffix, { force: true });
    }
    const storage = this.#storage();
    await storage.init();
    await storage.close();
  }

  async reset(): Promise<void> {
    // Steps and signals belong to jobs (on PostgreSQL by foreign key): they go too.
    if (this.#s.backend === 'pg') await sql(this.#s.location, 'TRUNCATE reseolio.jobs CASCADE');
    else {
      this.#sqlite((db) =>
        db.exec(
          'DELETE FROM reseolio_steps; DELETE FROM reseolio_signals; DELETE FROM reseolio_jobs; VACUUM;',
        ),
      );
    }
  }

  async seedFinished(count: number): Promise<void> {
    if (this.#s.backend === 'pg') {
      await sql(
        this.#s.location,
        `INSERT INTO reseolio.jobs (id, name, status, args, result, policy, attempt, max_attempts,
           created_at, run_at, started_at, completed_at)
         SELECT gen_random_uuid(), 'bench', 'success', '[{"sentAt":0,"sentWall":0}]', 'null',
           '{}', 1, 3, t, t, t, t
         FROM (SELECT (extract(epoch from now()) * 1000)::bigint - 86400000 + g AS t
               FROM generate_series(1, $1) g) s`,
        [count],
      );
      await sql(this.#s.location, 'VACUUM ANALYZE reseolio.jobs');
      return;
    }
    this.#sqlite((db) => {
      db.prepare(
        `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?)
         INSERT INTO reseolio_jobs (id, name, status, args, result, policy, attempt,
           max_attempts, created_at, run_at, started_at, completed_at)
         SELECT 'seed-' || n, 'bench', 'success', '[{"sentAt":0,"sentWall":0}]', 'null', '{}',
           1, 3, ?, ?, ?, ?
         FROM g`,
      ).run(count, ...Array(4).fill(Date.now() - 86_400_000));
      db.exec('ANALYZE');
    });
  }

  async unfinished(): Promise<number> {
    if (this.#s.backend === 'pg') {
      const { rows } = await sql(
        this.#s.location,
        `SELECT count(*)::int AS n FROM reseolio.jobs WHERE status IN ('pending', 'running')`,
      );
      return rows[0].n as number;
    }
    return this.#sqlite(
      (db) =>
        (
          db
            .prepare(
              `SELECT count(*) AS n FROM reseolio_jobs WHERE status IN ('pending', 'running')`,
            )
            .get() as { n: number }
        ).n,
    );
  }

  /** Direct access to the SQLite file for seeding and counting (better-sqlite3 of the adapter). */
  #sqlite<T>(fn: (db: SqliteDb) => T): T {
    const require = createRequire(import.meta.resolve('@reseolio/storage-sqlite'));
    const Database = require('better-sqlite3') as new (file: string) => SqliteDb;
    const db = new Database(this.#s.location);
    try {
      db.pragma('busy_timeout = 5000');
      return fn(db);
    } finally {
      db.close();
    }
  }

  /** The engine and the storage it borrows (an adapter instance is never closed by `stop()`). */
  #engine(concurrency: number): { engine: Reseolio; storage: StorageAdapter } {
    const storage = this.#storage();
    const engine = new (this.#s.engineClass ?? Reseolio)({
      storage,
      workerConcurrency: concurrency,
      pollIntervalMs: this.#s.backend === 'sqlite' && this.#s.variant === 'fast' ? 50 : 1000,
      logger: quiet,
    });
    return { engine, storage };
  }

  async open({ concurrency, handler, flow }: OpenOptions): Promise<EngineSession> {
    const { engine, storage } = this.#engine(concurrency);
    const run: BenchHandler = handler ?? (() => {});
    const fn = engine.durable(
      'bench',
      (p: BenchPayload) => run(p),
      flow && {
        concurrency: { limit: flow.concurrencyPerKey, key: (p: BenchPayload) => p.key ?? '-' },
      },
    );
    await engine.start();
    return new ReseolioSession(engine, storage, fn);
  }

  async runSaga(orchestrators: number, children: number, capMs: number): Promise<number> {
    // The orchestrator awaits each child's result() in turn: the saga idiom of the guide.
    // While it waits it lends its slot, so 10 slots are enough for any number of sagas.
    const { engine, storage } = this.#engine(10);
    const child = engine.durable('saga-child', async (step: number) => step);
    const orchestrate = engine.durable('saga-orchestrator', async (steps: number) => {
      for (let step = 0; step < steps; step++) await (await child(step)).result();
    });
    await engine.start();
    const started = performance.now();
    const handles = await Promise.all(
      Array.from({ length: orchestrators }, () => orchestrate(children)),
    );
    const cap = new Promise<'cap'>((resolve) => setTimeout(() => resolve('cap'), capMs).unref());
    const done = await Promise.race([Promise.all(handles.map((h) => h.result())), cap]);
    const elapsed = performance.now() - started;
    await engine.stop({ timeoutMs: 1000 });
    await storage.close();
    return done === 'cap' ? Number.NaN : elapsed;
  }
}

interface SqliteDb {
  pragma(text: string): unknown;
  exec(text: string): void;
  prepare(text: string): { run(...a: unknown[]): unknown; get(...a: unknown[]): unknown };
  close(): void;
}

type BenchFn = DurableFunction<[BenchPayload], void> & {
  enqueueMany?: (argsList: [BenchPayload][]) => Promise<JobHandle<void>[]>;
};

class ReseolioSession implements EngineSession {
  readonly #engine: Reseolio;
  readonly #storage: StorageAdapter;
  readonly #fn: BenchFn;

  constructor(
    engine: Reseolio,
    storage: StorageAdapter,
    fn: DurableFunction<[BenchPayload], void>,
  ) {
    this.#engine = engine;
    this.#storage = storage;
    this.#fn = fn as BenchFn;
  }

  async enqueue(p: BenchPayload): Promise<string> {
    return (await this.#fn.enqueue([p])).jobId;
  }

  async enqueueBulk(payloads: BenchPayload[]): Promise<void> {
    if (this.#fn.enqueueMany) {
      // One round trip per chunk: the new bulk API.
      for (let i = 0; i < payloads.length; i += 1000) {
        await this.#fn.enqueueMany(payloads.slice(i, i + 1000).map((p) => [p]));
      }
      return;
    }
    // Builds without enqueueMany: as many single enqueues in flight as the pool has connections.
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < payloads.length) await this.#fn.enqueue([payloads[next++]!]);
      }),
    );
  }

  async awaitResult(id: string): Promise<void> {
    await this.#engine.getHandle(id).result();
  }

  async close(): Promise<void> {
    await this.#engine.stop({ timeoutMs: 1000 });
    await this.#storage.close();
  }
}
