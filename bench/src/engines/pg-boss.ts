import PgBoss from 'pg-boss';
import { sql } from '../db.ts';
import { waitUntil } from '../stats.ts';
import { ResultPoller } from './poll-result.ts';
import type { BenchHandler, BenchPayload, Engine, EngineSession, OpenOptions } from './types.ts';

const QUEUE = 'bench';

/**
 * pg-boss 10: polling only (no LISTEN), one `work()` loop per worker that fetches up to
 * `batchSize` jobs, runs the batch and completes it, then sleeps until the next poll.
 * Default = documented defaults (`work()` called once per slot, batchSize 1, poll 2 s);
 * fast = its advice for throughput: the minimum poll (0.5 s) and batches run in parallel.
 */
export class PgBossEngine implements Engine {
  readonly key = 'pg-boss';
  readonly label = 'pg-boss 10';
  readonly variant: 'default' | 'fast';
  readonly settings: string;
  readonly bestConcurrency: number;
  readonly fullFeatured = true;
  readonly childArgs: string[];
  readonly #url: string;

  constructor(url: string, variant: 'default' | 'fast') {
    this.#url = url;
    this.variant = variant;
    this.bestConcurrency = variant === 'fast' ? 200 : 10;
    this.settings =
      variant === 'fast'
        ? 'pollingIntervalSeconds 0.5, batchSize 10 per work() loop run in parallel, max 20 conns, best 20 loops'
        : 'defaults: one work() per slot, batchSize 1, pollingIntervalSeconds 2, max 10 conns';
    this.childArgs = [this.key, variant, url];
  }

  async #boss(): Promise<PgBoss> {
    const boss = new PgBoss({
      connectionString: this.#url,
      max: this.variant === 'fast' ? 20 : 10,
      // Maintenance and cron would add their own queries to every measurement.
      supervise: false,
      schedule: false,
    });
    boss.on('error', (error) => console.error('[pg-boss]', error.message));
    await boss.start();
    return boss;
  }

  async prepare(): Promise<void> {
    const boss = await this.#boss();
    for (const queue of [QUEUE, 'saga-orchestrator', 'saga-child']) {
      if (!(await boss.getQueue(queue))) await boss.createQueue(queue);
    }
    await boss.stop({ graceful: false, wait: true });
  }

  async reset(): Promise<void> {
    await sql(this.#url, 'TRUNCATE pgboss.job, pgboss.archive');
  }

  async seedFinished(count: number): Promise<void> {
    // Completed pg-boss jobs stay in the job table until archived (12 h by default).
    await sql(
      this.#url,
      `INSERT INTO pgboss.job (name, data, state, started_on, completed_on, created_on)
       SELECT $2, '{"sentAt":0,"sentWall":0}', 'completed', now() - interval '1 day',
         now() - interval '1 day', now() - interval '1 day'
       FROM generate_series(1, $1)`,
      [count, QUEUE],
    );
    await sql(this.#url, 'VACUUM ANALYZE pgboss.job');
  }

  async unfinished(): Promise<number> {
    const { rows } = await sql(
      this.#url,
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state < 'completed'`,
      [QUEUE],
    );
    return rows[0].n as number;
  }

  /** Starts `slots` jobs at once: `work()` loops of one job (default) or of parallel batches. */
  async #work(
    boss: PgBoss,
    queue: string,
    slots: number,
    handler: (data: unknown) => Promise<void>,
  ): Promise<void> {
    const fast = this.variant === 'fast';
    const batchSize = fast ? Math.min(10, slots) : 1;
    const loops = Math.ceil(slots / batchSize);
    for (let i = 0; i < loops; i++) {
      await boss.work(
        queue,
        { batchSize, pollingIntervalSeconds: fast ? 0.5 : 2 },
        async (jobs: PgBoss.Job<unknown>[]) => {
          await Promise.all(jobs.map((job) => handler(job.data)));
        },
      );
    }
  }

  async open({ concurrency, handler }: OpenOptions): Promise<EngineSession> {
    const boss = await this.#boss();
    const run: BenchHandler = handler ?? (() => {});
    if (concurrency > 0) {
      await this.#work(boss, QUEUE, concurrency, async (data) => {
        await run(data as BenchPayload);
      });
    }
    return new PgBossSession(this.#url, boss);
  }

  async runSaga(orchestrators: number, children: number, capMs: number): Promise<number> {
    // No awaitable results: a saga is a chain of sends, the last child counts it done.
    const boss = await this.#boss();
    let done = 0;
    await this.#work(boss, 'saga-orchestrator', 5, async (data) => {
      await boss.send('saga-child', { step: 0, steps: (data as { steps: number }).steps });
    });
    await this.#work(boss, 'saga-child', 5, async (data) => {
      const { step, steps } = data as { step: number; steps: number };
      if (step + 1 < steps) await boss.send('saga-child', { step: step + 1, steps });
      else done += 1;
    });
    const started = performance.now();
    await Promise.all(
      Array.from({ length: orchestrators }, () =>
        boss.send('saga-orchestrator', { steps: children }),
      ),
    );
    const finished = await waitUntil(() => done >= orchestrators, capMs);
    const elapsed = performance.now() - started;
    await boss.stop({ graceful: false, wait: true });
    return finished ? elapsed : Number.NaN;
  }
}

class PgBossSession implements EngineSession {
  readonly #boss: PgBoss;
  readonly #poller: ResultPoller;

  constructor(url: string, boss: PgBoss) {
    this.#boss = boss;
    this.#poller = new ResultPoller(
      url,
      `SELECT 1 FROM pgboss.job WHERE name = '${QUEUE}' AND id = $1 AND state < 'completed'`,
    );
  }

  async enqueue(p: BenchPayload): Promise<string> {
    const id = await this.#boss.send(QUEUE, p as unknown as object);
    if (id === null) throw new Error('pg-boss refused the job');
    return id;
  }

  async enqueueBulk(payloads: BenchPayload[]): Promise<void> {
    for (let i = 0; i < payloads.length; i += 1000) {
      await this.#boss.insert(
        payloads
          .slice(i, i + 1000)
          .map((data) => ({ name: QUEUE, data: data as unknown as object })),
      );
    }
  }

  awaitResult(id: string): Promise<void> {
    return this.#poller.wait(id);
  }

  async close(): Promise<void> {
    await this.#boss.stop({ graceful: true, wait: true, timeout: 2000 });
    await this.#poller.close();
  }
}
