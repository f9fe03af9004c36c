import {
  Logger,
  makeWorkerUtils,
  type Runner,
  run,
  type TaskList,
  type WorkerUtils,
} from 'graphile-worker';
import { sql } from '../db.ts';
import { waitUntil } from '../stats.ts';
import { ResultPoller } from './poll-result.ts';
import type { BenchPayload, Engine, EngineSession, OpenOptions } from './types.ts';

// graphile-worker's Logger takes a log factory; this one drops everything.
const logger = new Logger(() => () => {});

/**
 * graphile-worker 0.16: LISTEN/NOTIFY wake-ups, one `get_job` round trip per job per slot,
 * completed jobs are deleted. Default = documented defaults (pollInterval 2000, pool 10);
 * fast = the performance advice of its docs: more concurrency (24, its perf test) with a pool
 * large enough for it, and a short poll interval.
 */
export class GraphileEngine implements Engine {
  readonly key = 'graphile-worker';
  readonly label = 'graphile-worker 0.16';
  readonly variant: 'default' | 'fast';
  readonly settings: string;
  readonly bestConcurrency: number;
  readonly fullFeatured = true;
  readonly childArgs: string[];
  readonly #url: string;

  constructor(url: string, variant: 'default' | 'fast') {
    this.#url = url;
    this.variant = variant;
    this.bestConcurrency = variant === 'fast' ? 24 : 10;
    this.settings =
      variant === 'fast'
        ? 'maxPoolSize concurrency+2, pollInterval 100, best concurrency 24'
        : 'defaults: maxPoolSize 10, pollInterval 2000';
    this.childArgs = [this.key, variant, url];
  }

  #options(concurrency: number) {
    return {
      connectionString: this.#url,
      concurrency,
      noHandleSignals: true,
      logger,
      ...(this.variant === 'fast' ? { maxPoolSize: concurrency + 2, pollInterval: 100 } : {}),
    };
  }

  async prepare(): Promise<void> {
    const utils = await makeWorkerUtils({ connectionString: this.#url, logger });
    await utils.migrate();
    await utils.release();
  }

  async reset(): Promise<void> {
    await sql(this.#url, 'TRUNCATE graphile_worker._private_jobs');
  }

  async seedFinished(count: number): Promise<void> {
    // Completed graphile jobs are deleted, so the finished jobs that stay in its table are the
    // permanently failed ones (attempts = max_attempts): those are what 1,000,000 means here.
    await sql(
      this.#url,
      `INSERT INTO graphile_worker._private_tasks (identifier) VALUES ('bench')
       ON CONFLICT DO NOTHING`,
    );
    await sql(
      this.#url,
      `INSERT INTO graphile_worker._private_jobs (task_id, payload, attempts, max_attempts,
         last_error, run_at)
       SELECT (SELECT id FROM graphile_worker._private_tasks WHERE identifier = 'bench'),
         '{"sentAt":0,"sentWall":0}', 1, 1, 'failed', now() - interval '1 day'
       FROM generate_series(1, $1)`,
      [count],
    );
    await sql(this.#url, 'VACUUM ANALYZE graphile_worker._private_jobs');
  }

  async unfinished(): Promise<number> {
    const { rows } = await sql(
      this.#url,
      'SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE attempts < max_attempts',
    );
    return rows[0].n as number;
  }

  async open({ concurrency, handler }: OpenOptions): Promise<EngineSession> {
    const utils = await makeWorkerUtils({ connectionString: this.#url, logger });
    let runner: Runner | undefined;
    if (concurrency > 0) {
      const taskList: TaskList = {
        bench: async (p) => {
          await handler?.(p as BenchPayload);
        },
      };
      runner = await run({ ...this.#options(concurrency), taskList });
    }
    return new GraphileSession(this.#url, utils, runner);
  }

  async runSaga(orchestrators: number, children: number, capMs: number): Promise<number> {
    // No awaitable results: a saga is a chain. The orchestrator adds child 1; each child adds
    // the next in its own transaction (helpers.addJob) and the last one counts the saga done.
    let done = 0;
    const taskList: TaskList = {
      'saga-orchestrator': async (p, helpers) => {
        await helpers.addJob('saga-child', { step: 0, steps: (p as { steps: number }).steps });
      },
      'saga-child': async (p, helpers) => {
        const { step, steps } = p as { step: number; steps: number };
        if (step + 1 < steps) await helpers.addJob('saga-child', { step: step + 1, steps });
        else done += 1;
      },
    };
    const runner = await run({ ...this.#options(10), taskList });
    const utils = await makeWorkerUtils({ connectionString: this.#url, logger });
    const started = performance.now();
    await Promise.all(
      Array.from({ length: orchestrators }, () =>
        utils.addJob('saga-orchestrator', { steps: children }),
      ),
    );
    const finished = await waitUntil(() => done >= orchestrators, capMs);
    const elapsed = performance.now() - started;
    await runner.stop();
    await utils.release();
    return finished ? elapsed : Number.NaN;
  }
}

class GraphileSession implements EngineSession {
  readonly #utils: WorkerUtils;
  readonly #runner: Runner | undefined;
  readonly #poller: ResultPoller;

  constructor(url: string, utils: WorkerUtils, runner: Runner | undefined) {
    this.#utils = utils;
    this.#runner = runner;
    // Successful jobs are deleted: the job is done when its row is gone.
    this.#poller = new ResultPoller(
      url,
      'SELECT 1 FROM graphile_worker._private_jobs WHERE id = $1',
    );
  }

  async enqueue(p: BenchPayload): Promise<string> {
    return (await this.#utils.addJob('bench', p)).id;
  }

  async enqueueBulk(payloads: BenchPayload[]): Promise<void> {
    // 0.16's bulk API is the add_jobs SQL function (WorkerUtils.addJobs came in 0.17).
    for (let i = 0; i < payloads.length; i += 1000) {
      const specs = payloads
        .slice(i, i + 1000)
        .map((payload) => ({ identifier: 'bench', payload }));
      await this.#utils.withPgClient((client) =>
        client.query(
          `SELECT 1 FROM graphile_worker.add_jobs(
             array(SELECT json_populate_recordset(null::graphile_worker.job_spec, $1::json)))`,
          [JSON.stringify(specs)],
        ),
      );
    }
  }

  awaitResult(id: string): Promise<void> {
    return this.#poller.wait(id);
  }

  async close(): Promise<void> {
    await this.#runner?.stop();
    await this.#utils.release();
    await this.#poller.close();
  }
}
