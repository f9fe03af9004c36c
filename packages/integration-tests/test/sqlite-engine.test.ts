/** The engine's guarantees on real SQLite files, across instances and processes. */
import { join } from 'node:path';
import {
  PayloadTooLargeError,
  Reseolio,
  ReseolioValidationError,
  SerializationError,
  StorageConfigError,
} from 'reseolio';
import { describe, expect, it } from 'vitest';
import { startFixture } from './child-process.ts';
import { engineOn, sqliteUrl, tempDir, waitFor } from './helpers.ts';

describe('orchestration on SQLite', () => {
  it('an orchestrator fanning out 50 children with workerConcurrency 2 finishes', async () => {
    const reseolio = engineOn(sqliteUrl(), { workerConcurrency: 2 });
    const child = reseolio.durable('fan:child', async (i: number) => i * i);
    const parent = reseolio.durable('fan:parent', async () => {
      const handles = await Promise.all(Array.from({ length: 50 }, (_, i) => child(i)));
      const squares = await Promise.all(handles.map((h) => h.result()));
      return squares.reduce((a, b) => a + b, 0);
    });
    await reseolio.start();
    expect(await (await parent()).result(20_000)).toBe(40425);
    expect(
      await reseolio.listJobs({ name: 'fan:child', status: 'success', limit: 1000 }),
    ).toHaveLength(50);
  });

  it('a retried orchestrator re-attaches to its un-keyed children: each runs exactly once', async () => {
    const reseolio = engineOn();
    const executions: string[] = [];
    const charge = reseolio.durable('saga:charge', async (orderId: string) => {
      executions.push(`charge ${orderId}`);
      return 'ch_1';
    });
    const email = reseolio.durable('saga:email', async (orderId: string) => {
      executions.push(`email ${orderId}`);
    });
    let attempts = 0;
    const saga = reseolio.durable('saga:checkout', async (orderId: string) => {
      attempts += 1;
      const charged = await (await charge(orderId)).result();
      await email(orderId);
      if (attempts === 1) throw new Error('crashed after starting its children');
      return charged;
    });
    await reseolio.start();
    const handle = await saga('o1');
    expect(await handle.result(10_000)).toBe('ch_1');
    expect(attempts).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(executions.sort()).toEqual(['charge o1', 'email o1']);
    const children = await reseolio.listJobs({ parentId: handle.jobId });
    expect(children.map((c) => c.name).sort()).toEqual(['saga:charge', 'saga:email']);
  });
});

describe('crashes and leases on SQLite', () => {
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

  it('20 concurrent calls with one idempotency key from two instances: one job, one execution', async () => {
    const url = sqliteUrl();
    const a = engineOn(url);
    const b = engineOn(url);
    let executions = 0;
    const fnA = a.durable('once', async () => {
      executions += 1;
      return executions;
    });
    const fnB = b.durable('once', async () => {
      executions += 1;
      return executions;
    });
    await Promise.all([a.start(), b.start()]);
    const handles = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? fnA : fnB)({ idempotencyKey: 'pay-order-1' })),
    );
    expect(new Set(handles.map((h) => h.jobId)).size).toBe(1);
    expect(await handles[0]!.result(10_000)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(executions).toBe(1);
    expect(await a.listJobs({ name: 'once' })).toHaveLength(1);
  });

  it('result() from a second instance after the job finished resolves at once', async () => {
    const url = sqliteUrl();
    const first = engineOn(url);
    const fn = first.durable('finished-early', async () => ({ at: new Date(0) }));
    await first.start();
    const handle = await fn();
    await handle.result(10_000);
    await first.stop();
    const second = engineOn(url, { workerConcurrency: 0, pollIntervalMs: 60_000 });
    const started = performance.now();
    expect(await second.getHandle(handle.jobId).result(10_000)).toEqual({ at: new Date(0) });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('result() in one instance wakes on a push when another instance on the same file finishes', async () => {
    const url = sqliteUrl();
    const waiter = engineOn(url, { workerConcurrency: 0, pollIntervalMs: 60_000 });
    const worker = engineOn(url);
    const enqueue = waiter.durable('pushed', async () => 'x');
    worker.durable('pushed', async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 'done';
    });
    await worker.start();
    const handle = await enqueue();
    // With polling set to a minute, only the in-process push can resolve this in time.
    expect(await handle.result(5000)).toBe('done');
  });
});

describe('bad input on SQLite: a clear error and nothing stored', () => {
  it('refuses unserializable arguments, oversized payloads, bad names and options', async () => {
    const reseolio = engineOn(sqliteUrl(), { maxPayloadBytes: 1024 });
    const fn = reseolio.durable('accepts-anything', async (..._args: unknown[]) => {});
    await expect(fn(() => 'no')).rejects.toBeInstanceOf(SerializationError);
    await expect(fn([Symbol('s')])).rejects.toThrow(/\[0\] is a symbol/);
    await expect(fn('x'.repeat(2000))).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(fn({ delayMs: -1 })).rejects.toBeInstanceOf(ReseolioValidationError);
    await expect(fn.enqueue('not an array' as unknown as [])).rejects.toThrow(
      /takes the arguments as an array/,
    );
    expect(() => reseolio.durable('bad name!', async () => {})).toThrow(ReseolioValidationError);
    expect(() => reseolio.namespace('a/b')).toThrow(/no ':' or '\/'/);
    expect(() => reseolio.durable('ok-name', async () => {}, { timeoutMs: -1 })).toThrow(
      /timeoutMs/,
    );
    expect(await reseolio.listJobs()).toEqual([]);
  });

  it('names the unknown scheme of a storage URL and the missing file name of a SQLite URL', async () => {
    const engine = new Reseolio({ storage: 'redis://127.0.0.1' });
    await expect(engine.init()).rejects.toThrow(/Unknown storage URL scheme "redis:"/);
    const noFile = new Reseolio({ storage: 'sqlite:' });
    await expect(noFile.init()).rejects.toBeInstanceOf(StorageConfigError);
  });
});
