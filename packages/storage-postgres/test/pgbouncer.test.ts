import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@reseolio/test-utils';
import pg from 'pg';
import {
  deserialize,
  JobCancelledError,
  JobFailedError,
  type JobHandle,
  NonRetryableError,
  Reseolio,
} from 'reseolio';
import type { StorageEvent } from 'reseolio/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createPostgresStorage, type PostgresStorageOptions } from '../src/index.ts';
import { adminQuery, databaseUrl, dropSchema, schemaFor } from './helpers.ts';
import { findPgbouncer, type Pgbouncer, startPgbouncer } from './pgbouncer-process.ts';

/**
 * Reseolio through a real PgBouncer in transaction pooling mode, as many production
 * deployments reach PostgreSQL: `preparedStatements: false`, `listen: false`. PgBouncer
 * (Debian's `pgbouncer`) is started here on a free port in front of the test PostgreSQL, with
 * 4 server connections shared by every client of this file. Setup and verification read
 * PostgreSQL directly (`adminQuery`); everything Reseolio does goes through PgBouncer.
 *
 * Without the binary this file skips, visibly, except under CI, where it fails: .ci/run
 * installs pgbouncer, so a skip there would hide a broken CI image.
 */

const SERVER_POOL = 4;
const BINARY = findPgbouncer();
const IN_CI = !!process.env.CI && process.env.CI !== '0' && process.env.CI !== 'false';
const SKIP = !BINARY && !IN_CI;
const MIGRATIONS = (
  JSON.parse(readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as {
    entries: unknown[];
  }
).entries.length;

if (SKIP) {
  it('PgBouncer tests', ({ skip }) => {
    const reason = 'pgbouncer binary not found: apt-get install -y pgbouncer, or set PGBOUNCER_BIN';
    console.warn(`PgBouncer tests skipped: ${reason}`);
    skip(reason);
  });
}

let bouncer: Pgbouncer;

/** An adapter that reaches PostgreSQL only through PgBouncer, as the README says to. */
function storageThrough(schema: string, options: Partial<PostgresStorageOptions> = {}) {
  return createPostgresStorage({
    connectionString: bouncer.url,
    schema,
    poolSize: 4,
    preparedStatements: false,
    listen: false,
    ...options,
  });
}

/** An engine on its own adapter through PgBouncer, stopped and closed when the test ends. */
function engineThrough(
  schema: string,
  workerConcurrency: number,
  options: Partial<PostgresStorageOptions> = {},
) {
  const storage = storageThrough(schema, options);
  const engine = new Reseolio({
    storage,
    workerConcurrency,
    pollIntervalMs: 100,
    logger: quietLogger,
  });
  onTestFinished(async () => {
    await engine.stop();
    await storage.close();
  });
  return { engine, storage };
}

/** Advisory locks held by PgBouncer's server connections (pids from its console). */
async function advisoryLocksOnBouncerServers(): Promise<{ pid: number; key: string }[]> {
  const pids = (await bouncer.show('SERVERS')).map((row) => Number(row.remote_pid));
  if (pids.length === 0) return [];
  const { rows } = await adminQuery(
    `SELECT pid, ((classid::bigint << 32) | objid::bigint)::text AS key FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND pid = ANY($1::int[])`,
    [pids],
  );
  return rows;
}

/**
 * The advisory locks of PgBouncer's server connections when `unsettled` callers are all
 * waiting on one while its holder is idle: nobody left can release it, so they hang.
 */
async function stuckOnAdvisoryLock(unsettled: number): Promise<unknown[] | undefined> {
  const pids = (await bouncer.show('SERVERS')).map((row) => Number(row.remote_pid));
  const { rows } = await adminQuery(
    `SELECT l.pid, l.granted, a.state, a.query FROM pg_locks l JOIN pg_stat_activity a USING (pid)
      WHERE l.locktype = 'advisory' AND l.pid = ANY($1::int[])`,
    [pids],
  );
  const waiting = rows.filter((row) => !row.granted).length;
  const idleHolder = rows.some((row) => row.granted && row.state === 'idle');
  return waiting === unsettled && idleHolder ? rows : undefined;
}

/** Ends PgBouncer's server connections (and whatever session state they hold). */
async function terminateBouncerServers(): Promise<void> {
  const pids = (await bouncer.show('SERVERS')).map((row) => Number(row.remote_pid));
  if (pids.length > 0) {
    await adminQuery('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
  }
}

async function count(sql: string): Promise<number> {
  return Number((await adminQuery(sql)).rows[0].count);
}

/** A fresh schema for the calling test, dropped when it finishes. */
async function freshSchema(testName: string): Promise<string> {
  const schema = schemaFor('pgbouncer', testName);
  await dropSchema(schema);
  onTestFinished(() => dropSchema(schema));
  return schema;
}

const quietLogger = {
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(`[reseolio] ${message}`),
  error: (message: string, ...meta: unknown[]) => console.error(`[reseolio] ${message}`, ...meta),
};

describe.skipIf(SKIP)('through PgBouncer (pool_mode = transaction)', () => {
  beforeAll(async () => {
    if (!BINARY) {
      throw new Error(
        'CI is set but the pgbouncer binary is missing: .ci/run installs it with apt-get ' +
          '(this test must not skip in CI).',
      );
    }
    bouncer = await startPgbouncer({ targetUrl: databaseUrl(), poolSize: SERVER_POOL });
  });
  afterAll(async () => {
    await bouncer?.stop();
  });

  it('migrates a schema that does not exist yet, then enqueues, runs, retries, deduplicates and cancels', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const { engine: reseolio } = engineThrough(schema, 4);
    const double = reseolio.durable('pgb:double', async (n: number) => n * 2);
    const flakyRuns: number[] = [];
    const flaky = reseolio.durable(
      'pgb:flaky',
      async (label: string) => {
        flakyRuns.push(flakyRuns.length + 1);
        if (flakyRuns.length === 1) throw new Error('first attempt fails');
        return `${label} ok`;
      },
      { maxAttempts: 3, initialDelayMs: 10, jitter: 0 },
    );
    const refuse = reseolio.durable('pgb:refuse', async () => {
      throw new NonRetryableError('no');
    });
    const later = reseolio.durable('pgb:later', async () => 'ran');

    // Migration through PgBouncer, by one process, on a schema that does not exist.
    expect(await count(`SELECT count(*) FROM pg_namespace WHERE nspname = '${schema}'`)).toBe(0);
    await reseolio.start();
    expect(await count(`SELECT count(*) FROM "${schema}".__reseolio_migrations`)).toBe(MIGRATIONS);
    expect(await advisoryLocksOnBouncerServers()).toEqual([]);

    // Enqueue, run, result().
    const handle = await double(21);
    expect(await handle.result(20_000)).toBe(42);
    const details = await handle.details();
    expect(details).toMatchObject({ status: 'success', attempt: 1, result: 42 });

    // A handler that fails once: the failure is stored as a retry, attempt 2 succeeds.
    const retries: string[] = [];
    reseolio.on('job:retry', (job) => retries.push(job.id));
    const retried = await flaky('a');
    expect(await retried.result(20_000)).toBe('a ok');
    expect(await retried.details()).toMatchObject({ status: 'success', attempt: 2 });
    expect(flakyRuns).toEqual([1, 2]);
    expect(retries).toEqual([retried.jobId]);

    // A non-retryable error: dead at once.
    const dead = await refuse();
    await expect(dead.result(20_000)).rejects.toBeInstanceOf(JobFailedError);
    expect(await dead.details()).toMatchObject({ status: 'dead', attempt: 1 });

    // enqueueMany: one statement, many jobs.
    const many = await double.enqueueMany(Array.from({ length: 50 }, (_, i) => [i]));
    expect(many).toHaveLength(50);
    expect(await Promise.all(many.map((h) => h.result(20_000)))).toEqual(
      Array.from({ length: 50 }, (_, i) => i * 2),
    );

    // Idempotent duplicates, at once: one job, both callers get it.
    let deduplicated = 0;
    reseolio.on('deduplicated', () => deduplicated++);
    const [first, second] = await Promise.all([
      double.enqueue([7], { idempotencyKey: 'seven' }),
      double.enqueue([7], { idempotencyKey: 'seven' }),
    ]);
    expect(second.jobId).toBe(first.jobId);
    expect(deduplicated).toBe(1);
    expect(await first.result(20_000)).toBe(14);
    expect(
      await count(`SELECT count(*) FROM "${schema}".jobs WHERE idempotency_key = 'seven'`),
    ).toBe(1);
    // A later duplicate, once finished, is still the same job.
    expect((await double(7, { idempotencyKey: 'seven' })).jobId).toBe(first.jobId);

    // Cancel a job that is not due yet.
    const delayed = await later.enqueue([], { delayMs: 3_600_000 });
    expect(await delayed.cancel()).toBe(true);
    expect(await delayed.status()).toBe('cancelled');
    await expect(delayed.result(20_000)).rejects.toBeInstanceOf(JobCancelledError);

    // listJobs and getHandle read through PgBouncer too.
    const listed = await reseolio.listJobs({ name: 'pgb:double', status: 'success', limit: 100 });
    expect(listed).toHaveLength(52);
    expect(await reseolio.getHandle(handle.jobId).result(20_000)).toBe(42);
  }, 120_000);

  it('enqueue in a transaction through PgBouncer: a rollback stores nothing, a commit runs the job', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const { engine: reseolio, storage } = engineThrough(schema, 2);
    const appPool = new pg.Pool({ connectionString: bouncer.url, max: 2 });
    onTestFinished(() => appPool.end());
    const welcome = reseolio.durable('pgb:welcome', async (user: string) => `hi ${user}`);
    await reseolio.start();

    const client = await appPool.connect();
    let rolledBack: string;
    let committed: JobHandle<string>;
    try {
      // In transaction pooling, BEGIN…COMMIT keeps one server connection: the job and the
      // app's own writes commit or roll back together, as with a direct connection.
      await client.query('BEGIN');
      rolledBack = (await welcome.enqueue(['u1'], { transaction: client })).jobId;
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      committed = await welcome.enqueue(['u2'], { transaction: client });
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await committed.result(20_000)).toBe('hi u2');
    expect(await storage.getJob(rolledBack)).toBeUndefined();
    expect(await count(`SELECT count(*) FROM "${schema}".jobs`)).toBe(1);
  }, 60_000);

  it('a process on a direct connection with listen: true hears the enqueues and results made through PgBouncer', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    // A producer and a worker that reach PostgreSQL through PgBouncer. The producer only
    // enqueues, so its jobs are not leased to itself and each enqueue sends `ready`.
    const { engine: producer } = engineThrough(schema, 0);
    const { engine: worker } = engineThrough(schema, 2, { migrate: false });
    // A process that connects directly and LISTENs (the default).
    const direct = createPostgresStorage({
      connectionString: databaseUrl(),
      schema,
      poolSize: 1,
      migrate: false,
    });
    onTestFinished(() => direct.close());
    const welcome = producer.durable('pgb:welcome', async (user: string) => `hi ${user}`);
    worker.durable('pgb:welcome', async (user: string) => `hi ${user}`);
    await producer.start();
    await worker.start();
    await direct.init();
    const events: StorageEvent[] = [];
    await direct.subscribe((event) => events.push(event));

    const handle = await welcome('u3');
    expect(await handle.result(20_000)).toBe('hi u3');
    // The pg_notify calls ride in the statements sent through PgBouncer; PostgreSQL delivers
    // them at commit to every listener, whatever connection wrote.
    await waitFor(() => events.some((e) => e.type === 'ready' && e.name === 'pgb:welcome'));
    const finished = await waitFor(() =>
      events.find((e) => e.type === 'finished' && e.jobId === handle.jobId),
    );
    expect(finished).toMatchObject({ status: 'success' });
    if (finished.type === 'finished' && finished.outcome) {
      expect(deserialize(finished.outcome.result!)).toBe('hi u3');
    }
  }, 60_000);

  describe('worker processes', () => {
    const JOBS = 600;
    const PROCESSES = 3;
    const children: ChildProcess[] = [];
    afterEach(async () => {
      // A failed test must not leave worker processes behind.
      await Promise.all(children.splice(0).map(stopChild));
    });

    it(`${PROCESSES} processes share ${JOBS} jobs through PgBouncer, each run exactly once`, async ({
      task,
    }) => {
      const schema = await freshSchema(task.name);
      // The producer migrates the fresh schema through PgBouncer and only enqueues.
      const { engine: producer } = engineThrough(schema, 0);
      const double = producer.durable('pgb:double', async (n: number) => n * 2);
      await producer.start();
      await adminQuery(
        `CREATE TABLE "${schema}".executions (job_id uuid NOT NULL, attempt int NOT NULL, pid int NOT NULL)`,
      );
      const workers = await Promise.all(
        Array.from({ length: PROCESSES }, () => startWorker(bouncer.url, schema, 5)),
      );
      children.push(...workers.map((worker) => worker.child));
      const stderr = () => workers.map((w) => `${w.child.pid}: ${w.stderr()}`).join('\n');

      const handles: JobHandle<number>[] = [];
      for (let start = 0; start < JOBS; start += 50) {
        const batch = Array.from({ length: 50 }, (_, i) => start + i);
        handles.push(...(await Promise.all(batch.map((n) => double(n)))));
      }

      // More clients than server connections while they work: PgBouncer really multiplexes.
      await waitFor(async () => (await bouncer.show('CLIENTS')).length > SERVER_POOL, 60_000);
      expect((await bouncer.show('SERVERS')).length).toBeLessThanOrEqual(SERVER_POOL);

      try {
        await waitFor(
          async () =>
            (await count(`SELECT count(*) FROM "${schema}".jobs WHERE status = 'success'`)) ===
            JOBS,
          150_000,
        );
      } catch (err) {
        throw new Error(`not every job succeeded; worker stderr:\n${stderr()}`, { cause: err });
      }

      // Every result is recorded and is 2n for argument n.
      const { rows: jobs } = await adminQuery(
        `SELECT id, args, result, status, attempt FROM "${schema}".jobs`,
      );
      expect(jobs).toHaveLength(JOBS);
      const wrong = jobs.filter((row) => {
        const [n] = deserialize(row.args) as [number];
        return row.status !== 'success' || row.attempt !== 1 || deserialize(row.result) !== n * 2;
      });
      expect(wrong).toEqual([]);

      // Every job ran exactly once (no process was killed, so no lease may have expired).
      const { rows: runs } = await adminQuery(
        `SELECT job_id, count(*)::int AS runs, min(pid) AS pid FROM "${schema}".executions GROUP BY job_id`,
      );
      expect(runs).toHaveLength(JOBS);
      expect(runs.filter((row) => row.runs !== 1)).toEqual([]);
      // The work was shared by all the processes.
      expect(new Set(runs.map((row) => row.pid))).toEqual(new Set(workers.map((w) => w.child.pid)));

      // Cross-process result() without LISTEN: the producer polls and sees every result.
      const results = await Promise.all(handles.map((h) => h.result(60_000)));
      expect(results).toEqual(Array.from({ length: JOBS }, (_, n) => n * 2));
      expect(stderr()).not.toMatch(/error:/);
    }, 300_000);
  });

  // Issue 11: migration used to serialise migrators with a session `pg_advisory_lock` held on
  // one client. In transaction pooling every statement may run on a different server
  // connection, so the lock, the migration and the unlock landed on different sessions:
  // concurrent migrators were not serialised (duplicate DDL errors) and a lock could be left
  // on a pooled server connection, hanging every later `init()` of that schema. Migrations
  // now run in one transaction under `pg_advisory_xact_lock`.
  it('init() of several processes at once on a fresh schema: all succeed, no advisory lock is left', async ({
    task,
  }) => {
    // Terminating the servers at the end drops any lock this test leaves behind.
    onTestFinished(terminateBouncerServers);
    for (let round = 0; round < 10; round++) {
      const schema = await freshSchema(`${task.name} ${round}`);
      const storages = Array.from({ length: 6 }, () => storageThrough(schema, { poolSize: 1 }));
      onTestFinished(async () => {
        // A hung init() holds its client until its backend is gone.
        await terminateBouncerServers();
        await Promise.all(storages.map((s) => s.close()));
      });
      const outcomes: (string | undefined)[] = [];
      let settled = 0;
      for (const [i, s] of storages.entries()) {
        s.init().then(
          () => {
            outcomes[i] = 'ok';
            settled++;
          },
          (err: Error) => {
            outcomes[i] = `${err.message}: ${(err.cause as Error | undefined)?.message}`;
            settled++;
          },
        );
      }
      // Either every init() settles, or the ones left are stuck for good: each waits for
      // the lock while the session holding it sits idle in PgBouncer's pool, where only an
      // unlock sent by one of them could release it.
      let stuck: unknown[] | undefined;
      await waitFor(async () => {
        if (settled === storages.length) return true;
        stuck = await stuckOnAdvisoryLock(storages.length - settled);
        return stuck !== undefined;
      }, 60_000);
      if (stuck) {
        throw new Error(
          `round ${round}: ${storages.length - settled} init() calls hang; settled: ` +
            `${JSON.stringify(outcomes)}; advisory locks of PgBouncer's server connections: ` +
            JSON.stringify(stuck),
        );
      }
      expect(outcomes, `round ${round}`).toEqual(storages.map(() => 'ok'));
      expect(await advisoryLocksOnBouncerServers(), `round ${round}`).toEqual([]);
      expect(await count(`SELECT count(*) FROM "${schema}".__reseolio_migrations`)).toBe(
        MIGRATIONS,
      );
    }
  }, 300_000);
});

const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/pgbouncer-worker.mjs', import.meta.url));

/** Starts a worker process and resolves once its engine has started. */
function startWorker(
  url: string,
  schema: string,
  concurrency: number,
): Promise<{ child: ChildProcess; stderr(): string }> {
  const child = spawn(process.execPath, [WORKER_SCRIPT, url, schema, String(concurrency)], {
    stdio: 'pipe',
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve({ child, stderr: () => stderr });
    });
    child.once('exit', (code) =>
      reject(new Error(`worker exited with ${code} before starting: ${stderr}`)),
    );
  });
}

/** SIGTERM (graceful stop) and wait for the exit; SIGKILL if it takes too long. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
