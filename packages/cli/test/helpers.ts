import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresStorage } from '@reseolio/storage-postgres';
import { createSqliteStorage } from '@reseolio/storage-sqlite';
import type {} from '@reseolio/test-utils/postgres-global-setup';
import pg from 'pg';
import { Reseolio, type ReseolioOptions, type StorageAdapter } from 'reseolio';
import { inject, onTestFinished } from 'vitest';

/** The built bin, as a user's shell runs it: the tests check what ships. */
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `reseolio …args` as a child process and resolves how it ended. The environment holds
 * no storage variable unless `env` sets one, so each test says where its storage is.
 */
export function reseolio(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the package first (pnpm build).`);
  const { DATABASE_URL: _d, RESEOLIO_STORAGE: _r, ...inherited } = process.env;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...inherited, NO_COLOR: '1', ...env }, timeout: 50_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error ? ((error as { code?: unknown }).code as number) : 0,
          stdout,
          stderr,
        });
      },
    );
    child.stdin?.end();
  });
}

/** Parses a run's stdout as JSON, failing with its output when it is not. */
export function parsed<T = any>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n--- stderr:\n${run.stderr}`);
  }
}

/** One storage the suite runs on: its command-line options, and adapters on it for seeding. */
export interface Target {
  kind: 'sqlite' | 'postgres';
  /** `--storage <url>` (and `--schema` on PostgreSQL). */
  args: string[];
  /** A new adapter on the same storage (migrating on init, as an app's does). */
  adapter(): StorageAdapter;
}

/** A SQLite file of its own in a temp folder, removed after the test. */
export function sqliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), 'reseolio-cli-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const filename = join(dir, 'jobs.db');
  return {
    kind: 'sqlite',
    args: ['--storage', `sqlite:${filename}`],
    adapter: () => createSqliteStorage({ filename }),
  };
}

/** A PostgreSQL schema of its own, named from the test, dropped before and after it. */
export async function postgresTarget(testName: string): Promise<Target> {
  const url = inject('databaseUrl');
  const schema = `cli_${createHash('sha1').update(testName).digest('hex').slice(0, 20)}`;
  const drop = () => adminQuery(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await drop();
  onTestFinished(drop);
  return {
    kind: 'postgres',
    args: ['--storage', url, '--schema', schema],
    adapter: () => createPostgresStorage({ connectionString: url, schema, poolSize: 2 }),
  };
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * An engine on the target for seeding and checking, stopped (and its adapter closed) after the
 * test. Workers run only when `workerConcurrency` is given.
 */
export async function engineOn(
  target: Target,
  options: Omit<ReseolioOptions, 'storage'> = {},
): Promise<Reseolio> {
  const storage = target.adapter();
  const engine = new Reseolio({ workerConcurrency: 0, ...options, storage });
  onTestFinished(async () => {
    await engine.stop();
    await storage.close();
  });
  await engine.init();
  return engine;
}

/** A long-running `reseolio …` (the dashboard): its output so far, and how to end it. */
export interface RunningCli {
  /** The first line of stdout matching `ready`, once printed. */
  ready: Promise<string>;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and resolves how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<CliRun>;
  /** Resolves how the process ended, without signalling it. */
  ended: Promise<CliRun>;
}

/**
 * Starts `reseolio …args` as a child process that keeps running, and resolves `ready` with
 * the first stdout line matching `ready` (rejecting if the process ends first). The process is
 * killed after the test if it still runs.
 */
export function startReseolio(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  ready = /^Reseolio dashboard: (\S+)$/m,
): RunningCli {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the package first (pnpm build).`);
  const {
    DATABASE_URL: _d,
    RESEOLIO_STORAGE: _r,
    RESEOLIO_DASHBOARD_TOKEN: _t,
    ...inherited
  } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...inherited, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const ended = new Promise<CliRun>((resolve) => {
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await ended;
    }
  });
  const readyLine = new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = ready.exec(stdout);
      if (match) resolve(match[1] ?? match[0]);
    };
    child.stdout.on('data', check);
    void ended.then((run) =>
      reject(new Error(`ended (exit ${run.code}) before ready:\n${run.stdout}\n${run.stderr}`)),
    );
  });
  return {
    ready: readyLine,
    stdout: () => stdout,
    stderr: () => stderr,
    ended,
    stop(signal = 'SIGTERM') {
      child.kill(signal);
      return ended;
    },
  };
}
