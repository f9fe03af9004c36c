import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { StatusGroup } from 'reseolio/storage';

/**
 * Why this file exists: `stats()` reads every row of the jobs table (statements.ts,
 * `JOB_STATS_SQL`), 1–4 s at 1,000,000 jobs, and better-sqlite3 runs it synchronously. On the
 * event loop that stalls heartbeats, claims and HTTP requests for as long, once per metrics
 * collection. So for a file database the read runs in a worker thread with its own read-only
 * connection (WAL lets it read beside the writer; its busy wait blocks nobody).
 *
 * The worker's code is a string run with `eval: true`, not a file: the adapter runs from
 * dist/*.js once built and from src/*.ts under vitest, and Node 20 cannot load a .ts worker.
 * It loads better-sqlite3 from the path this module resolves, not from the working directory.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
let statement;
parentPort.on('message', (input) => {
  try {
    // Opened by the first read, in the try: a failure comes back as this read's error.
    db ??= new Database(workerData.filename, {
      readonly: true,
      fileMustExist: true,
      timeout: workerData.busyTimeoutMs,
    });
    statement ??= db.prepare(workerData.sql);
    parentPort.postMessage({ rows: statement.all(input) });
  } catch (error) {
    parentPort.postMessage({
      error: { message: String(error && error.message), code: error && error.code },
    });
  }
});
`;

/** What the worker posts back for one read. */
type Reply = { rows: StatusGroup[] } | { error: { message: string; code: unknown } };

interface Pending {
  promise: Promise<StatusGroup[]>;
  resolve: (rows: StatusGroup[]) => void;
  reject: (error: unknown) => void;
}

/** @internal Options of {@link StatsWorker}. */
export interface StatsWorkerOptions {
  /** The database file's real path. */
  filename: string;
  busyTimeoutMs: number;
  sql: string;
  /** The adapter's error for a failed read: `cause` is the driver's error or the worker's. */
  failure: (cause: unknown) => Error;
}

/**
 * @internal The adapter's stats worker: started by the first `read()`, kept for the next ones,
 * ended by `close()`. One read at a time; concurrent calls share it. It is unref'd while idle
 * so it never keeps the process alive, and ref'd during a read so a script awaiting `stats()`
 * does not exit before the answer.
 */
export class StatsWorker {
  readonly #options: StatsWorkerOptions;
  #worker: Worker | undefined;
  #pending: Pending | undefined;
  #closed = false;

  constructor(options: StatsWorkerOptions) {
    this.#options = options;
  }

  read(input: { now: number }): Promise<StatusGroup[]> {
    if (this.#closed) return Promise.reject(this.#options.failure(closedError()));
    if (this.#pending !== undefined) return this.#pending.promise;
    let resolve!: (rows: StatusGroup[]) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<StatusGroup[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#pending = { promise, resolve, reject };
    const worker = this.#start();
    worker.ref();
    worker.postMessage({ now: input.now });
    return promise;
  }

  /** Ends the worker; a read under way rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#settle(worker, { error: closedError() });
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const { filename, busyTimeoutMs, sql } = this.#options;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, filename, busyTimeoutMs, sql },
    });
    worker.on('message', (reply: Reply) => {
      if ('rows' in reply) this.#settle(worker, { rows: reply.rows });
      else this.#settle(worker, { error: driverError(reply.error) });
    });
    // Opening the file failed, or the thread died: the next read starts a new one.
    worker.on('error', (error) => this.#end(worker, error));
    worker.on('exit', (code) => {
      this.#end(worker, new Error(`The SQLite stats worker exited with code ${code}.`));
    });
    this.#worker = worker;
    return worker;
  }

  #end(worker: Worker, error: unknown): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#settle(worker, { error });
    void worker.terminate();
  }

  #settle(worker: Worker | undefined, result: { rows: StatusGroup[] } | { error: unknown }): void {
    worker?.unref();
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined) return;
    if ('rows' in result) pending.resolve(result.rows);
    else pending.reject(this.#options.failure(result.error));
  }
}

function closedError(): Error {
  return new Error('The SQLite storage was closed while stats() ran.');
}

/** The driver's error as the worker saw it, with its `SQLITE_*` code for the adapter's advice. */
function driverError(error: { message: string; code: unknown }): Error {
  return Object.assign(new Error(error.message), {
    name: 'SqliteError',
    ...(typeof error.code === 'string' ? { code: error.code } : {}),
  });
}
