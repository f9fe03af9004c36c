import pg from 'pg';
import { sql } from '../db.ts';
import type { BenchHandler, BenchPayload, Engine, EngineSession, OpenOptions } from './types.ts';

/**
 * The floor: the least a PostgreSQL queue must do for the same durability, with no library.
 * Every hot statement is a named prepared statement (planned once per connection).
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

  async open({ concurrency, handler, announceDone = false }: OpenOptions): Promise<EngineSession> {
    const pool = new pg.Pool({ connectionString: this.#url, max: 10 });
    const worker =
      concurrency > 0
        ? new FloorWorker(this.#url, pool, concurrency, handler ?? (() => {}), announceDone)
        : null;
    await worker?.start();
    const done = new DoneListener(this.#url);
    await done.start();
    return {
      enqueue: async (p) => {
        const { rows } = await pool.query({
          name: 'floor_enqueue',
          text: `WITH i AS (INSERT INTO floor_jobs (payload) VALUES ($1) RETURNING id)
           SELECT id, pg_notify('floor_jobs', '') FROM i`,
          values: [p],
        });
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
      awaitResult: (id) => done.wait(id),
      close: async () => {
        await worker?.stop();
        await done.stop();
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

  readonly #announceDone: boolean;

  constructor(
    url: string,
    pool: pg.Pool,
    slots: number,
    handler: BenchHandler,
    announceDone: boolean,
  ) {
    this.#pool = pool;
    this.#free = slots;
    this.#handler = handler;
    this.#announceDone = announceDone;
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
        const { rows } = await this.#pool.query({
          name: 'floor_claim',
          // The claim's commit skips the WAL flush (transaction-local), as Reseolio's does: a
          // claim lost in a crash only runs its job again; the done UPDATE stays synchronous.
          text: `UPDATE floor_jobs SET status = 1, locked_until = now() + interval '30 seconds'
           FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
           WHERE id IN (SELECT id FROM floor_jobs WHERE status = 0 ORDER BY id LIMIT $1
                        FOR UPDATE SKIP LOCKED)
           RETURNING id, payload`,
          values: [limit],
        });
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
        await this.#pool.query({
          name: this.#announceDone ? 'floor_done_announced' : 'floor_done',
          text: this.#announceDone
            ? // Announced in the same statement, so only once committed; ≤ 100 ids stay far
              // below NOTIFY's 8000-byte payload limit.
              `WITH d AS (UPDATE floor_jobs SET status = 2 WHERE id = ANY($1::bigint[])
                 RETURNING id), n AS (SELECT id, row_number() OVER () AS rn FROM d)
               SELECT pg_notify('floor_done', string_agg(id::text, ',')) FROM n
               GROUP BY (rn - 1) / 100`
            : 'UPDATE floor_jobs SET status = 2 WHERE id = ANY($1::bigint[])',
          values: [ids],
        });
        this.#free += ids.length;
        this.#wake();
      }
    } finally {
      this.#flushing = false;
    }
  }
}

/**
 * Awaits results the cheapest way: LISTEN for the ids the workers announce done, from the
 * session's start, so a job finished before `wait()` was called is already known.
 */
class DoneListener {
  readonly #client: pg.Client;
  readonly #finished = new Set<string>();
  readonly #waiting = new Map<string, () => void>();

  constructor(url: string) {
    this.#client = new pg.Client({ connectionString: url });
  }

  async start(): Promise<void> {
    await this.#client.connect();
    this.#client.on('notification', (message) => {
      for (const id of (message.payload ?? '').split(',')) {
        const resolve = this.#waiting.get(id);
        if (resolve) {
          this.#waiting.delete(id);
          resolve();
        } else {
          this.#finished.add(id);
        }
      }
    });
    await this.#client.query('LISTEN floor_done');
  }

  wait(id: string): Promise<void> {
    if (this.#finished.delete(id)) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  async stop(): Promise<void> {
    await this.#client.end();
  }
}
