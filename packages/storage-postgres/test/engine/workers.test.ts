import { waitFor } from '@reseolio/test-utils';
import { deserialize, type JobHandle, Reseolio } from 'reseolio';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { PostgresStorage } from '../../src/index.ts';
import { adminQuery, databaseUrl, dropSchema, schemaFor, storageOn } from '../helpers.ts';
import { startWorker, type WorkerArgs, type WorkerProcess } from './worker-processes.ts';

/**
 * The engine over this adapter with real processes: 4 workers × concurrency 10 share 5,000
 * jobs through one PostgreSQL. Each execution is recorded in a side table by the handler, so
 * "ran exactly once" is counted, not assumed.
 */

const JOBS = 5_000;
const WORKERS = 4;
const CONCURRENCY = 10;

interface Run {
  schema: string;
  producer: Reseolio;
  storage: PostgresStorage;
  handles: JobHandle<number>[];
  workers: WorkerProcess[];
}

const workers: WorkerProcess[] = [];
afterEach(async () => {
  // A failed test must not leave worker processes behind.
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
});

/** An enqueue-only engine in this process, the side table, and the worker processes. */
async function startRun(
  testName: string,
  args: Omit<WorkerArgs, 'databaseUrl' | 'schema'>,
  /** Overrides for the first worker only (the victim of the kill test). */
  firstWorker: Partial<Omit<WorkerArgs, 'databaseUrl' | 'schema'>> = {},
) {
  const schema = schemaFor('engine', testName);
  await dropSchema(schema);
  const storage = storageOn(schema, { poolSize: 10 });
  const producer = new Reseolio({ storage, workerConcurrency: 0 });
  const double = producer.durable('engine:double', async (n: number) => n * 2);
  await producer.start(); // migrates the schema
  onTestFinished(async () => {
    await producer.stop();
    await storage.close();
    await dropSchema(schema);
  });
  await adminQuery(
    `CREATE TABLE "${schema}".executions (job_id uuid NOT NULL, attempt int NOT NULL, pid int NOT NULL)`,
  );
  const started = await Promise.all(
    Array.from({ length: WORKERS }, (_, i) =>
      startWorker({ databaseUrl: databaseUrl(), schema, ...args, ...(i === 0 ? firstWorker : {}) }),
    ),
  );
  workers.push(...started);
  return { schema, producer, storage, double, workers: started };
}

async function enqueueAll(
  double: (n: number) => Promise<JobHandle<number>>,
): Promise<JobHandle<number>[]> {
  const handles: JobHandle<number>[] = [];
  for (let start = 0; start < JOBS; start += 250) {
    const batch = Array.from({ length: Math.min(250, JOBS - start) }, (_, i) => start + i);
    handles.push(...(await Promise.all(batch.map((n) => double(n)))));
  }
  return handles;
}

async function count(sql: string): Promise<number> {
  return Number((await adminQuery(sql)).rows[0].count);
}

async function waitAllSucceeded(schema: string, run: Pick<Run, 'workers'>, timeoutMs: number) {
  let done = 0;
  await waitFor(
    async () => {
      done = await count(`SELECT count(*) FROM "${schema}".jobs WHERE status = 'success'`);
      return done === JOBS;
    },
    {
      timeoutMs,
      what: () =>
        `all ${JOBS} jobs to succeed (${done} did); worker stderr:\n` +
        run.workers.map((w) => w.stderr()).join('\n'),
    },
  );
}

interface Executions {
  /** job id → executions in attempt order. */
  byJob: Map<string, { attempt: number; pid: number }[]>;
  total: number;
}

async function executions(schema: string): Promise<Executions> {
  const { rows } = await adminQuery(
    `SELECT job_id, attempt, pid FROM "${schema}".executions ORDER BY job_id, attempt`,
  );
  const byJob = new Map<string, { attempt: number; pid: number }[]>();
  for (const row of rows) {
    const list = byJob.get(row.job_id) ?? [];
    list.push({ attempt: row.attempt, pid: row.pid });
    byJob.set(row.job_id, list);
  }
  return { byJob, total: rows.length };
}

/** Every stored result is `2n` for argument `n`: no completion was lost or mixed up. */
async function expectAllResultsCorrect(schema: string): Promise<void> {
  const { rows } = await adminQuery(`SELECT args, result, status FROM "${schema}".jobs`);
  expect(rows).toHaveLength(JOBS);
  const wrong = rows.filter((row) => {
    const [n] = deserialize(row.args) as [number];
    return row.status !== 'success' || deserialize(row.result) !== n * 2;
  });
  expect(wrong).toEqual([]);
}

/** Fencing: two runs of one job are always two different attempts. */
function expectNoAttemptRanTwice(runs: Executions): void {
  for (const [jobId, list] of runs.byJob) {
    const attempts = list.map((run) => run.attempt);
    expect(new Set(attempts).size, `job ${jobId} attempts ${attempts}`).toBe(attempts.length);
  }
}

describe('engine on PostgreSQL with worker processes', () => {
  it('4 processes × concurrency 10 run 5,000 jobs, each exactly once', async ({ task }) => {
    const run = await startRun(task.name, {
      concurrency: CONCURRENCY,
      leaseMs: 10_000,
      handlerMs: 2,
    });
    const handles = await enqueueAll(run.double);
    await waitAllSucceeded(run.schema, run, 120_000);

    const runs = await executions(run.schema);
    expect(runs.total).toBe(JOBS);
    expect(runs.byJob.size).toBe(JOBS);
    // The work really was shared by all four processes.
    const pids = new Set([...runs.byJob.values()].map((list) => list[0]!.pid));
    expect(pids).toEqual(new Set(run.workers.map((w) => w.pid)));
    await expectAllResultsCorrect(run.schema);
    // Cross-process result(): the handle made here resolves with what another process returned.
    for (const n of [0, 1, 2_500, JOBS - 1]) {
      expect(await handles[n]!.result(5_000)).toBe(n * 2);
      expect((await handles[n]!.details()).attempt).toBe(1);
    }
  }, 180_000);

  it('a worker SIGKILLed mid-run: all jobs finish, only jobs it held ran twice, as attempt 2', async ({
    task,
  }) => {
    const run = await startRun(
      task.name,
      {
        concurrency: CONCURRENCY,
        // Only the victim may lose leases. A live worker's lease must survive a loaded 2-core
        // box (4 workers, the producer and PostgreSQL share the CPU): 3.75 s of slack over the
        // heartbeat. (This test also caught a heartbeat/ack deadlock: see `heartbeatJobs`.)
        leaseMs: 4_000,
        heartbeatIntervalMs: 250,
        handlerMs: 20,
      },
      // The victim's handlers never finish before it dies, so whatever it has started is
      // surely held when it is killed. (With 20 ms handlers on a busy machine it once held
      // nothing at the moment of the kill: every job it had started was already acked.)
      { handlerMs: 600_000 },
    );
    const enqueued = enqueueAll(run.double);
    // Kill it while the run is busy (a fifth of the jobs have started somewhere) and it holds
    // work (at least one of its handlers has started).
    const victim = run.workers[0]!;
    await waitFor(
      async () => {
        const started = await count(`SELECT count(*) FROM "${run.schema}".executions`);
        const startedByVictim = await count(
          `SELECT count(*) FROM "${run.schema}".executions WHERE pid = ${victim.pid}`,
        );
        return started >= JOBS / 5 && startedByVictim > 0;
      },
      { timeoutMs: 120_000, what: 'a fifth of the jobs started, one of them by the victim' },
    );
    victim.child.kill('SIGKILL');
    await enqueued;
    await waitAllSucceeded(run.schema, run, 120_000);

    const runs = await executions(run.schema);
    expectNoAttemptRanTwice(runs);
    const { rows } = await adminQuery(`SELECT id, attempt FROM "${run.schema}".jobs`);
    // The jobs it held when it died lost their lease and took a second attempt; nothing else
    // did. It had slots busy mid-run, so it held some. A process holds at most its running
    // handlers plus the finished ones whose outcome is not committed yet: a slot frees when
    // the handler returns, and the pool caps outcomes awaiting their commit at another
    // `workerConcurrency` (see WorkerPool's claim loop).
    const retried = rows.filter((row) => row.attempt !== 1);
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.length).toBeLessThanOrEqual(2 * CONCURRENCY);
    for (const { id, attempt } of retried) {
      expect(attempt).toBe(2);
      const list = runs.byJob.get(id)!;
      // The second attempt ran elsewhere; the first, if its handler got as far as recording,
      // ran in the victim (it may have died between claiming and recording).
      expect(list.at(-1)!.attempt).toBe(2);
      expect(list.at(-1)!.pid).not.toBe(victim.pid);
      if (list.length === 2) {
        // If not, a live worker lost a lease: its warnings say when.
        const stderr = run.workers.map((w) => `${w.pid}: ${w.stderr()}`).join('\n');
        expect(list[0], stderr).toEqual({ attempt: 1, pid: victim.pid });
      }
      expect(list.length).toBeLessThanOrEqual(2);
      const details = await run.producer.getHandle(id).details();
      expect(details.status).toBe('success');
      expect(details.attempt).toBe(2);
      // Both attempts are recorded: the victim's, ended by another node's sweep, then the
      // one that succeeded, on another process.
      const attempts = details.attempts ?? [];
      expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
        [1, 'lost'],
        [2, 'success'],
      ]);
      expect(attempts[0]!.error?.name).toBe('LeaseExpiredError');
      expect(attempts[0]!.workerId).not.toBe(attempts[1]!.workerId);
      expect(attempts[1]!.endedAt!.getTime()).toBeGreaterThanOrEqual(
        attempts[1]!.startedAt.getTime(),
      );
    }
    const retriedIds = new Set(retried.map((row) => row.id));
    const ranTwice = [...runs.byJob].filter(([, list]) => list.length > 1);
    expect(ranTwice.every(([id]) => retriedIds.has(id))).toBe(true);
    expect(runs.byJob.size).toBe(JOBS);
    await expectAllResultsCorrect(run.schema);
  }, 180_000);

  it('backends terminated with pg_terminate_backend during a run: every job finishes, no result lost', async ({
    task,
  }) => {
    const run = await startRun(task.name, {
      concurrency: CONCURRENCY,
      leaseMs: 5_000,
      handlerMs: 5,
    });
    const enqueued = enqueueAll(run.double);
    // Kill every connection the workers hold (pool, LISTEN, side table), repeatedly, while
    // they claim, heartbeat and ack: once each time another twelfth of the jobs has started,
    // so every round falls inside the run however fast the machine is.
    let killed = 0;
    for (let round = 1; round <= 6; round++) {
      await waitFor(
        async () =>
          (await count(`SELECT count(*) FROM "${run.schema}".executions`)) >= (round * JOBS) / 12,
        { timeoutMs: 120_000, what: `${round}/12 of the jobs started` },
      );
      const { rows } = await adminQuery(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [`engine-worker-${run.schema}`],
      );
      killed += rows.filter((row) => row.ok).length;
    }
    expect(killed).toBeGreaterThan(WORKERS * 2);
    const handles = await enqueued;
    await waitAllSucceeded(run.schema, run, 120_000);

    await expectAllResultsCorrect(run.schema);
    const runs = await executions(run.schema);
    expect(runs.byJob.size).toBe(JOBS);
    expectNoAttemptRanTwice(runs);
    for (const n of [0, JOBS - 1]) expect(await handles[n]!.result(5_000)).toBe(n * 2);
    // Workers are alive and still listening: a new job is picked up and finishes.
    const late = await run.double(7);
    expect(await late.result(10_000)).toBe(14);
  }, 180_000);
});
