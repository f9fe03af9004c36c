/** What soak.ts and soak-worker.ts share: the job, its policy, settings and messages. */
import type { DurableOptions } from 'reseolio';

export const SOAK_JOB = 'soak:work';
/**
 * The restart bursts' jobs: the same handler, registered on worker 0 only (a function that one
 * node runs), so that the node that claimed a burst is the one to claim it again when a crash
 * undid those claims (see README.md, PostgreSQL restarts).
 */
export const SOAK_BURST_JOB = 'soak:burst';

/**
 * Plenty of attempts: kills, crashes and planned failures all consume some, and a job that
 * goes dead is final (not stuck) but tells less. Short fixed backoff keeps retries in the run.
 */
export const SOAK_POLICY: DurableOptions = {
  maxAttempts: 10,
  backoff: 'fixed',
  initialDelayMs: 500,
  jitter: 0.2,
  timeoutMs: 60_000,
};

/** The arguments of one soak job. */
export interface JobSpec {
  n: number;
  /** How long the handler works, in ms. */
  sleepMs: number;
  /** Attempts up to this one throw (0: none does). */
  failAttempts: number;
  /**
   * A restart burst's job: its handler only reads at start (see soak-worker.ts, readFence)
   * and writes its execution row at the end.
   */
  burst?: boolean;
  /**
   * After recording its end, the handler waits this long before it returns (burst jobs): work
   * that goes on after its last write, so its outcome comes after a crash's restart.
   */
  lingerMs?: number;
  /** The crash trigger: on its first attempt the handler asks the soak to crash PostgreSQL. */
  crash?: boolean;
}

export interface WorkerConfig {
  url: string;
  index: number;
  /** Added to the worker's clock (the engine's internal clock parameter). */
  skewMs: number;
  concurrency: number;
  leaseMs: number;
}

export type WorkerMessage =
  | { type: 'ready'; workerId: string }
  | { type: 'crash'; requestId: string; jobId: string; n: number };

export type ParentMessage = { type: 'crash-done'; requestId: string };

/**
 * The soak's own tables. `executions` has one row per handler execution: its start is written
 * (asynchronously, see soak-worker.ts) when the handler starts, its end (synchronously) before
 * it returns or throws. `jobs_meta` holds each job's kind and first due time as enqueued.
 */
export const SOAK_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS soak;
CREATE TABLE IF NOT EXISTS soak.executions (
  id uuid PRIMARY KEY,
  job_id uuid NOT NULL,
  attempt int NOT NULL,
  worker int NOT NULL,
  pid int NOT NULL,
  worker_id text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  returned_at timestamptz,
  outcome text,
  -- the handler's signal had aborted (the engine dropped the attempt) by its end, or by its
  -- return for burst jobs (which linger after their end)
  aborted boolean,
  lease_token text,
  row_status text,
  row_attempt int,
  row_owner text,
  read_retried boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS executions_job_idx ON soak.executions (job_id);
CREATE TABLE IF NOT EXISTS soak.jobs_meta (
  job_id uuid PRIMARY KEY,
  kind text NOT NULL,
  due_at bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS soak.events (
  kind text NOT NULL,
  worker int,
  pid int,
  at_ms bigint NOT NULL,
  until_ms bigint NOT NULL,
  note text
);
`;
