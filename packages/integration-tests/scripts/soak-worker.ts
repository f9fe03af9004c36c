/**
 * One worker process of the soak (see soak.ts and README.md): a Reseolio engine on
 * PostgresStorage running `soak:work`, whose handler records each execution in
 * `soak.executions`. Started by soak.ts with its settings in `SOAK_WORKER` (JSON) and an IPC
 * channel; says `ready` over it once its engine runs.
 */
import { randomUUID } from 'node:crypto';
import { createPostgresStorage, isConnectionError } from '@reseolio/storage-postgres';
import pg from 'pg';
import { type Clock, currentJob, type Logger, Reseolio } from 'reseolio';
import {
  type JobSpec,
  type ParentMessage,
  SOAK_BURST_JOB,
  SOAK_JOB,
  SOAK_POLICY,
  type WorkerConfig,
  type WorkerMessage,
} from './soak-shared.ts';

const config = JSON.parse(process.env.SOAK_WORKER ?? '') as WorkerConfig;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

const logger: Logger = {
  debug() {},
  info() {},
  warn: (message) => process.stderr.write(`warn: ${message}\n`),
  error: (message, ...meta) =>
    process.stderr.write(`error: ${message} ${meta.map((m) => String(m)).join(' ')}\n`),
};

// The skewed node's clock, given to the engine as its (internal) second constructor argument.
const clock: Clock | undefined =
  config.skewMs === 0 ? undefined : { now: () => Date.now() + config.skewMs };
const storage = createPostgresStorage({ connectionString: config.url, poolSize: 10 });
const reseolio = new Reseolio(
  {
    storage,
    workerConcurrency: config.concurrency,
    leaseMs: config.leaseMs,
    pollIntervalMs: 500,
    logger,
  },
  clock,
);
reseolio.on('error', (error) => logger.error(error.message));

// The handler's own connections, one per slot and a few more: a statement must never queue
// for a connection (see `readFence`).
const side = new pg.Pool({ connectionString: config.url, max: config.concurrency + 4 });
side.on('error', () => {});

/**
 * Runs `statement` again after connection errors (a PostgreSQL restart) for up to `budgetMs`.
 * Calls `onRetry` before each new try.
 */
async function withRetry<T>(
  statement: () => Promise<T>,
  budgetMs: number,
  onRetry: () => void = () => {},
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      return await statement();
    } catch (error) {
      if (!isConnectionError(error) || Date.now() > deadline) throw error;
      onRetry();
      await sleep(100);
    }
  }
}

interface Fence {
  startedAt: Date;
  leaseToken: string | null;
  rowStatus: string;
  rowAttempt: number;
  rowOwner: string | null;
  readRetried: boolean;
}

const COLUMNS = `id, job_id, attempt, worker, pid, worker_id, started_at, lease_token, row_status,
  row_attempt, row_owner, read_retried`;

/**
 * At handler start: reads the job's row (its lease token, or what fences it today: attempt and
 * owner) and, for regular jobs, writes the execution's start, in one statement committed
 * WITHOUT waiting for the WAL flush. A synchronous commit here would flush the claim before
 * it (WAL is written in order) and so make every claim whose handler has started survive a
 * crash: the soak would then never see what a crash does to a claim. Burst jobs (`quiet`)
 * only read: even asynchronous WAL completes WAL pages, and a completed page makes the WAL
 * writer write out everything before it, the burst's claims included. Their start is written
 * with their end. The read happens in the same statement as the insert, so the token is that
 * of our claim unless the statement had to be re-sent after a connection error (then
 * `read_retried`, and the analysis does not trust it).
 */
async function readFence(
  executionId: string,
  jobId: string,
  attempt: number,
  quiet: boolean,
): Promise<Fence> {
  let retried = false;
  const read = `SELECT clock_timestamp() AS started_at, to_jsonb(j)->>'lease_token' AS lease_token,
      j.status AS row_status, j.attempt AS row_attempt, j.owner_id AS row_owner`;
  const rows = await withRetry(
    async () =>
      quiet
        ? (
            await side.query(
              `${read}, $2::boolean AS read_retried FROM reseolio.jobs AS j WHERE j.id = $1`,
              [jobId, retried],
            )
          ).rows
        : (
            await side.query(
              `INSERT INTO soak.executions (${COLUMNS})
               SELECT $1, j.id, $3, $4, $5, $6, clock_timestamp(), to_jsonb(j)->>'lease_token',
                 j.status, j.attempt, j.owner_id, $7
               FROM reseolio.jobs AS j
                 CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
               WHERE j.id = $2
               ON CONFLICT (id) DO UPDATE SET read_retried = true
               RETURNING started_at, lease_token, row_status, row_attempt, row_owner, read_retried`,
              [executionId, jobId, attempt, config.index, process.pid, reseolio.workerId, retried],
            )
          ).rows,
    60_000,
    () => {
      retried = true;
    },
  );
  const row = rows[0];
  if (!row) throw new Error(`soak: job ${jobId} has no row`);
  return {
    startedAt: row.started_at,
    leaseToken: row.lease_token,
    rowStatus: row.row_status,
    rowAttempt: row.row_attempt,
    rowOwner: row.row_owner,
    readRetried: row.read_retried,
  };
}

/**
 * At handler end: the execution's end, committed synchronously before the handler returns (so
 * before the engine writes the outcome). Carries every start column too: the start row was
 * committed asynchronously and a crash may have lost it.
 */
async function recordEnd(
  executionId: string,
  jobId: string,
  attempt: number,
  fence: Fence,
  outcome: 'returned' | 'threw',
  aborted: boolean,
): Promise<void> {
  await withRetry(
    () =>
      side.query(
        `INSERT INTO soak.executions (${COLUMNS}, ended_at, outcome, aborted)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, clock_timestamp(), $13, $14)
         ON CONFLICT (id) DO UPDATE SET ended_at = EXCLUDED.ended_at, outcome = EXCLUDED.outcome,
           aborted = EXCLUDED.aborted`,
        [
          executionId,
          jobId,
          attempt,
          config.index,
          process.pid,
          reseolio.workerId,
          fence.startedAt,
          fence.leaseToken,
          fence.rowStatus,
          fence.rowAttempt,
          fence.rowOwner,
          fence.readRetried,
          outcome,
          aborted,
        ],
      ),
    60_000,
  );
}

/** Answers to `crash` requests, by request id. */
const crashAnswers = new Map<string, () => void>();
process.on('message', (message: ParentMessage) => {
  if (message.type === 'crash-done') crashAnswers.get(message.requestId)?.();
});

/** Asks the soak to crash PostgreSQL now; resolves once it is back (or the soak declined). */
function requestCrash(jobId: string, n: number): Promise<void> {
  const requestId = randomUUID();
  return new Promise((resolve) => {
    crashAnswers.set(requestId, () => {
      crashAnswers.delete(requestId);
      resolve();
    });
    send({ type: 'crash', requestId, jobId, n });
  });
}

async function work(spec: JobSpec): Promise<string> {
  const job = currentJob()!;
  const executionId = randomUUID();
  const fence = await readFence(executionId, job.jobId, job.attempt, spec.burst === true);
  // The crash trigger: the server goes down while this attempt's claim is only a few
  // milliseconds old (see README.md, "PostgreSQL restarts").
  if (spec.crash && job.attempt === 1) await requestCrash(job.jobId, spec.n);
  // The handler ignores its signal, like much real code: whatever it does after losing its
  // lease, the engine must not let its outcome through.
  await sleep(spec.sleepMs);
  const outcome = job.attempt <= spec.failAttempts ? 'threw' : 'returned';
  await recordEnd(executionId, job.jobId, job.attempt, fence, outcome, job.signal.aborted);
  if (spec.lingerMs) {
    await sleep(spec.lingerMs);
    // When it really returns, and whether the engine had dropped the attempt by then.
    await withRetry(
      () =>
        side.query(
          'UPDATE soak.executions SET returned_at = clock_timestamp(), aborted = $2 WHERE id = $1',
          [executionId, job.signal.aborted],
        ),
      60_000,
    );
  }
  if (outcome === 'threw') throw new Error(`soak: planned failure of attempt ${job.attempt}`);
  return executionId;
}

reseolio.durable(SOAK_JOB, work, SOAK_POLICY);
if (config.index === 0) reseolio.durable(SOAK_BURST_JOB, work, SOAK_POLICY);

process.once('SIGTERM', async () => {
  await reseolio.stop({ timeoutMs: 5_000 }).catch(() => {});
  await side.end().catch(() => {});
  process.exit(0);
});

await reseolio.start();
send({ type: 'ready', workerId: reseolio.workerId });

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
