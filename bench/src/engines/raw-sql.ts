import pg from 'pg';
import { sql } from '../db.ts';
import { ResultPoller } from './poll-result.ts';
import type { BenchHandler, BenchPayload, Engine, EngineSession, OpenOptions } from './types.ts';

/**
 * The floor: the least a PostgreSQL queue must do for the same durability, with no library.
 * Insert one row (and NOTIFY); claim a batch with `FOR UPDATE SKIP LOCKED` through a partial
 * index, taking a lease, in a commit that does not wait for the WAL flush (a lost claim only
 * re-runs its job); run; mark the batch done in one synchronous UPDATE after the handlers
 * return.
 * No retries, no fencing, no payload serialization beyond JSON: a limit, not a product.
 */
export class RawSqlEngine implements Engine {
  readonly key = 'raw-sql';
  readonly label = 'raw SQL floor';
  readonly variant = 'fast' as const;
  readonly settings =
    'pool 10; claim ≤ free slots per statement, async commit; done acks coalesced';
  readonly bestConcurrency = 100;
  readonly fullFeatured = false;
  readonly childArgs: string[];
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
    this.childArgs = [this.key, 'fast', url];
  }

  async prepare(): Promise<void> {
    await sql(
      this.#url,
      `CREATE TABLE IF NOT EXISTS floor_jobs (
         id bigserial PRIMARY KEY,
         payload jsonb NOT NULL,
         status smallint NOT NULL DEFAULT 0,
         locked_until timestamptz,
         created_at timestamptz NOT NULL DEFAULT now()
       );
       CREATE INDEX IF NOT EXISTS floor_jobs_pending ON floor_jobs (id) WHERE status = 0;`,
    );
  }

  async reset(): Promise<void> {
    await sql(this.#url, 'TRUNCATE floor_jobs');
  }

  async seedFinished(count: number): Promise<void> {
    await sql(
      this.#url,
      `INSERT INTO floor_jobs (payload, status) SELECT '{"sentAt":0,"sentWall":0}', 2
       FROM generate_series(1, $1)`,
      [count],
    );
    await sql(this.#url, 'VACUUM ANALYZE floor_jobs');
  }

  async unfinished(): Promise<number> {
    const { rows } = await sql(
      this.#url,
      'SELECT count(*)::int AS n FROM floor_jobs WHERE status < 2',
    );
    return rows[0].n as number;
  }

  async open({ concurrency, handler }: OpenOptions): Promise<EngineSession> {
    const pool = new pg.Pool({ connectionString: this.#url, max: 10 });
    const worker =
      concurrency > 0 ? new FloorWorker(this.#url, pool, concurrency, handler ?? (() => {})) : null;
    await worker?.start();
    return {
      enqueue: async (p) => {
        const { rows } = await pool.query(
          `WITH i AS (INSERT INTO floor_jobs (payload) VALUES ($1) RETURNING id)
           SELECT id, pg_notify('floor_jobs', '') FROM i`,
          [p],
        );
        return String(rows[0].id);
      },
      enqueueBulk: async (payloads) => {
        for (let i = 0; i < payloads.length; i += 1000) {
          await pool.query(
            `WITH i AS (INSERT INTO floor_jobs (payload)
               SELECT p FROM jsonb_array_elements($1::jsonb) p RETURNING 1)
             SELECT pg_notify('floor_jobs', '') FROM (SELECT count(*) FROM i) c`,
            [JSON.stringify(payloads.slice(i, i + 1000))],
          );
        }
      },
      awaitResult: (id) =>
        new ResultPoller(this.#url, 'SELECT 1 FROM floor_jobs WHERE id = $1 AND status < 2').wait(
          id,
        ),
      close: async () => {
        await worker?.stop();
        await pool.end();
      },
    };
  }

  async runSaga(): Promise<number> {
    return Number.NaN;
  }
}

class FloorWorker {
  readonly #pool: pg.Pool;
  readonly #listener: pg.Client;
  readonly #handler: BenchHandler;
  #free: number;
  #claiming = false;
  #wanted = false;
  #flushing = false;
  #done: string[] = [];
  #stopped = false;
  #poll: NodeJS.Timeout | undefined;

  constructor(url: string, pool: pg.Pool, slots: number, handler: BenchHandler) {
    this.#pool = pool;
    this.#free = slots;
    this.#handler = handler;
    this.#listener = new pg.Client({ connectionString: url });
  }

  async start(): Promise<void> {
    await this.#listener.connect();
    this.#listener.on('notification', () => this.#wake());
    await this.#listener.query('LISTEN floor_jobs');
    this.#poll = setInterval(() => this.#wake(), 1000);
    this.#wake();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#poll);
    while (this.#claiming || this.#flushing || this.#done.length > 0) {
      await new Promise((r) => setTimeout(r, 5));
      void this.#flush();
    }
    await this.#listener.end();
  }

  #wake(): void {
    this.#wanted = true;
    if (!this.#claiming) void this.#claimLoop();
  }

  async #claimLoop(): Promise<void> {
    this.#claiming = true;
    try {
      while (this.#wanted && this.#free > 0 && !this.#stopped) {
        this.#wanted = false;
        const limit = this.#free;
        const { rows } = await this.#pool.query(
          // The claim's commit skips the WAL flush (transaction-local), as Reseolio's does: a
          // claim lost in a crash only runs its job again; the done UPDATE stays synchronous.
          `UPDATE floor_jobs SET status = 1, locked_until = now() + interval '30 seconds'
           FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
           WHERE id IN (SELECT id FROM floor_jobs WHERE status = 0 ORDER BY id LIMIT $1
                        FOR UPDATE SKIP LOCKED)
           RETURNING id, payload`,
          [limit],
        );
        this.#free -= rows.length;
        for (const row of rows) this.#run(String(row.id), row.payload as BenchPayload);
        if (rows.length === limit) this.#wanted = true;
      }
    } finally {
      this.#claiming = false;
    }
  }

  #run(id: string, p: BenchPayload): void {
    void Promise.resolve(this.#handler(p)).then(() => {
      this.#done.push(id);
      void this.#flush();
    });
  }

  /** Marks every finished job done in one statement; a slot frees only after that commit. */
  async #flush(): Promise<void> {
    if (this.#flushing || this.#done.length === 0) return;
    this.#flushing = true;
    try {
      while (this.#done.length > 0) {
        const ids = this.#done.splice(0);
        await this.#pool.query('UPDATE floor_jobs SET status = 2 WHERE id = ANY($1::bigint[])', [
          ids,
        ]);
        this.#free += ids.length;
        this.#wake();
      }
    } finally {
      this.#flushing = false;
    }
  }
}
