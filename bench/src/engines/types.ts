/** The payload every benchmark job carries: when it was enqueued (performance.now of the sender). */
export interface BenchPayload {
  /** `performance.now()` in the enqueuing process; only compared within that process. */
  sentAt: number;
  /** Wall-clock `Date.now()` at enqueue, for cross-process pickup checks. */
  sentWall: number;
  /** The job's group, for the flow-control metric (engines with per-key limits). */
  key?: string;
}

/** What the handler of the `bench` task does with each job it runs. */
export type BenchHandler = (payload: BenchPayload) => void | Promise<void>;

/** One connection to an engine: a producer, and a worker unless `concurrency` is 0. */
export interface EngineSession {
  /** Enqueues one job and resolves once it is durably stored; returns its id. */
  enqueue(payload: BenchPayload): Promise<string>;
  /** Enqueues many jobs with the engine's bulk API (one round trip where it has one). */
  enqueueBulk(payloads: BenchPayload[]): Promise<void>;
  /**
   * Resolves when the job finished. Reseolio awaits its handle; the others have no native
   * await, so the harness polls their job table every few milliseconds, as a user would.
   */
  awaitResult(id: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Jobs run at once in this process; 0 = producer only. */
  concurrency: number;
  handler?: BenchHandler;
  /**
   * Someone awaits results (the result metric): the raw-SQL floor's workers then announce
   * finished jobs, which it otherwise skips as work nobody needs. The engines ignore it.
   */
  announceDone?: boolean;
  /**
   * Register the job with a per-key concurrency limit (payload `key`): the flow-control
   * metric. Only engines with per-key limits take it (`Engine.flowControl`).
   */
  flow?: { concurrencyPerKey: number };
}

/** One engine under one group of settings. */
export interface Engine {
  /** Stable key, e.g. `reseolio-pg`. */
  readonly key: string;
  /** Shown in the table, e.g. `Reseolio (PostgreSQL)`. */
  readonly label: string;
  /** `default` or `fast`. */
  readonly variant: 'default' | 'fast';
  /** The settings, in words, for the report. */
  readonly settings: string;
  /** The concurrency of this engine's best throughput setting. */
  readonly bestConcurrency: number;
  /** False for the raw-SQL floor: no sagas, no memory profile (it awaits results only by NOTIFY). */
  readonly fullFeatured: boolean;
  /** Has per-key concurrency limits (`OpenOptions.flow`), for the flow-control metric. */
  readonly flowControl?: boolean;
  /** Creates the engine's database and schema (once per run). */
  prepare(): Promise<void>;
  /** Empties the job tables between measurements. */
  reset(): Promise<void>;
  /** Inserts `count` already finished jobs straight into the table (scale metric). */
  seedFinished(count: number): Promise<void>;
  /** Counts jobs that are not finished yet (pending, running, retrying). */
  unfinished(): Promise<number>;
  open(options: OpenOptions): Promise<EngineSession>;
  /**
   * Runs `orchestrators` sagas of `children` sequential child jobs each, at concurrency 10,
   * and resolves when all are finished. Each engine uses its own idiom (see the engine files).
   */
  runSaga(orchestrators: number, children: number, capMs: number): Promise<number>;
  /** Arguments for a child process to open this engine (`src/child/*`). */
  readonly childArgs: string[];
}

export function payload(): BenchPayload {
  return { sentAt: performance.now(), sentWall: Date.now() };
}
