import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the worker wrote to stderr (engine warnings and errors). */
  stderr(): string;
  /** SIGTERM (graceful stop) and wait for exit; SIGKILL if it takes too long. */
  stop(): Promise<void>;
}

export interface WorkerArgs {
  databaseUrl: string;
  schema: string;
  concurrency: number;
  leaseMs: number;
  /** How often leases are extended, in ms. Default: a third of `leaseMs` (the engine's). */
  heartbeatIntervalMs?: number;
  handlerMs: number;
}

/** Starts a worker process and resolves once its engine has started. */
export function startWorker(args: WorkerArgs): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      WORKER_SCRIPT,
      args.databaseUrl,
      args.schema,
      String(args.concurrency),
      String(args.leaseMs),
      String(args.heartbeatIntervalMs ?? Math.floor(args.leaseMs / 3)),
      String(args.handlerMs),
    ],
    { stdio: 'pipe' },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker: WorkerProcess = {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(worker);
    });
    child.once('exit', (code) =>
      reject(new Error(`worker exited with ${code} before starting: ${stderr}`)),
    );
  });
}
