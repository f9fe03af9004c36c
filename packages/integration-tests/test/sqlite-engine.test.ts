/** The engine's guarantees on real SQLite files, across instances and processes. */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type JobInfo, Reseolio, StorageConfigError } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { startFixture } from './child-process.ts';
import { engineOn, tempDir, waitFor } from './helpers.ts';

describe('crashes and leases on SQLite (other processes on one file)', () => {
  it('a process killed mid-job: another process finishes it after the lease expires', async () => {
    const file = join(tempDir(), 'jobs.db');
    const producer = engineOn(`sqlite:${file}`, { workerConcurrency: 0 });
    const enqueue = producer.durable('crash:job', async () => 'unused');
    const handle = await enqueue();
    const worker = startFixture('sqlite-worker.mjs', [file, 'hang']);
    expect(await worker.waitForLine(/^started /)).toBe(`started ${handle.jobId}`);
    worker.child.kill('SIGKILL');
    await worker.exited;
    expect(await handle.status()).toBe('running');

    const survivor = engineOn(`sqlite:${file}`, { leaseMs: 400, pollIntervalMs: 50 });
    survivor.durable('crash:job', async () => 'recovered');
    await survivor.start();
    expect(await survivor.getHandle(handle.jobId).result(10_000)).toBe('recovered');
    const details = await handle.details();
    expect(details.attempt).toBe(2);
    expect(details.error).toMatchObject({
      name: 'LeaseExpiredError',
      code: 'RESEOLIO_LEASE_EXPIRED',
    });
  });

  it("the node that sweeps a dead process's lease emits job:error, then job:retry or job:dead", async () => {
    // Alerting built on events must see crashes too: the lost attempt is reported by the node
    // that finds it, whether or not it registered the function.
    const file = join(tempDir(), 'jobs.db');
    const producer = engineOn(`sqlite:${file}`, { workerConcurrency: 0 });
    const enqueue = producer.durable('crash:job', async () => 'unused');
    const retried = await enqueue.enqueue([], { maxAttempts: 2 });
    const last = await enqueue.enqueue([], { maxAttempts: 1 });
    const worker = startFixture('sqlite-worker.mjs', [file, 'hang']);
    await worker.waitForLine(/^started /);
    await worker.waitForLine(/^started /);
    worker.child.kill('SIGKILL');
    await worker.exited;

    const sweeper = engineOn(`sqlite:${file}`, { leaseMs: 400, pollIntervalMs: 50 });
    sweeper.durable('other:job', async () => 'unrelated');
    const events: string[] = [];
    const record = (event: string) => (info: JobInfo, error: Error) =>
      events.push(`${event} ${info.id} ${info.attempt}/${info.maxAttempts} ${error.name}`);
    sweeper.on('job:error', record('job:error'));
    sweeper.on('job:retry', record('job:retry'));
    sweeper.on('job:dead', record('job:dead'));
    await sweeper.start();
    await waitFor(() => events.length === 4);
    expect(events.sort()).toEqual(
      [
        `job:error ${retried.jobId} 1/2 LeaseExpiredError`,
        `job:retry ${retried.jobId} 1/2 LeaseExpiredError`,
        `job:error ${last.jobId} 1/1 LeaseExpiredError`,
        `job:dead ${last.jobId} 1/1 LeaseExpiredError`,
      ].sort(),
    );
    await expect(last.result(1_000)).rejects.toThrow(/LeaseExpiredError/);
  });

  it('a late ack from an attempt that lost its lease changes nothing', async () => {
    const file = join(tempDir(), 'jobs.db');
    const taker = engineOn(`sqlite:${file}`, {
      leaseMs: 400,
      pollIntervalMs: 50,
      workerConcurrency: 0,
    });
    const enqueue = taker.durable('crash:job', async () => 'unused');
    const handle = await enqueue();
    const staller = startFixture('sqlite-worker.mjs', [file, 'block']);
    await staller.waitForLine(/^started /);
    // The staller's event loop is blocked for 1.5 s: its lease (400 ms) expires meanwhile.
    // Sweep and claim it here through storage, as another node would, and finish it.
    const other = new Reseolio({ storage: `sqlite:${file}`, leaseMs: 400, pollIntervalMs: 50 });
    other.durable('crash:job', async () => 'taken over');
    await other.start();
    try {
      expect(await other.getHandle(handle.jobId).result(10_000)).toBe('taken over');
      // The staller wakes up and tries to record 'late' for its old attempt.
      await waitFor(() => /lease was lost before the success was recorded/.test(staller.stderr()));
      const details = await handle.details();
      expect(details).toMatchObject({ status: 'success', result: 'taken over', attempt: 2 });
    } finally {
      await other.stop();
    }
  });
});

describe('a database that is missing at boot', () => {
  it('works once its folder exists: a failed init is not kept', async () => {
    const folder = join(tempDir(), 'not-yet');
    const engine = engineOn(`sqlite:${join(folder, 'jobs.db')}`, { pollIntervalMs: 50 });
    const fn = engine.durable('boot:later', async () => 'ran');
    await expect(engine.start()).rejects.toBeInstanceOf(StorageConfigError);
    await expect(fn()).rejects.toBeInstanceOf(StorageConfigError);
    mkdirSync(folder);
    await engine.start();
    expect(await (await fn()).result(5_000)).toBe('ran');
  });
});

describe('storage URLs', () => {
  it('names the unknown scheme of a storage URL and the missing file name of a SQLite URL', async () => {
    const engine = new Reseolio({ storage: 'redis://127.0.0.1' });
    await expect(engine.init()).rejects.toThrow(/Unknown storage URL scheme "redis:"/);
    const noFile = new Reseolio({ storage: 'sqlite:' });
    await expect(noFile.init()).rejects.toThrow(/The SQLite URL "sqlite:" has no file name/);
  });

  it('an app started from another directory loads the adapter from its entry script', () => {
    // In this workspace core lives in packages/core, outside this package's node_modules, so
    // core's own import() cannot find the adapter, and the working directory has none either:
    // only the entry script's folder resolves it.
    const script = fileURLToPath(new URL('./fixtures/sqlite-url.mjs', import.meta.url));
    // A user's shell, not ours: pnpm's bin shims put NODE_PATH in the test runner's env.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const output = execFileSync(process.execPath, [script], {
      cwd: tempDir(),
      env,
      encoding: 'utf8',
    });
    expect(output.trim()).toBe('ok');
  });

  it('loads @reseolio/storage-sqlite for sqlite: URLs in any case', async () => {
    for (const storage of ['SQLITE::memory:', 'SQLite://:memory:', 'sqlite::memory:']) {
      const engine = new Reseolio({ storage });
      await engine.init();
      await engine.stop();
    }
  });
});
