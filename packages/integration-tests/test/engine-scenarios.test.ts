/** The engine's guarantees on every real backend, across instances on one database. */

import {
  currentJob,
  FINAL_STATUSES,
  PayloadTooLargeError,
  ReseolioValidationError,
  SerializationError,
} from 'reseolio';
import { describe, expect, it } from 'vitest';
import { BACKENDS, engineOn, waitFor } from './helpers.ts';

describe.each(BACKENDS)('on $backend', ({ freshDatabase }) => {
  it('an orchestrator fanning out 50 children with workerConcurrency 2 finishes', async () => {
    const reseolio = engineOn(freshDatabase()(), { workerConcurrency: 2 });
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
    const reseolio = engineOn(freshDatabase()());
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
    // The email is not awaited by the saga: wait for both children to finish.
    const children = await waitFor(async () => {
      const found = await reseolio.listJobs({ parentId: handle.jobId });
      return found.length >= 2 && found.every((c) => FINAL_STATUSES.includes(c.status)) && found;
    });
    expect(children.map((c) => c.name).sort()).toEqual(['saga:charge', 'saga:email']);
    expect(executions.sort()).toEqual(['charge o1', 'email o1']);
  });
  it('cancel and retryJob from another instance while the job runs: the cancelled run cannot record its result', async () => {
    // On PostgreSQL without LISTEN (and on SQLite from another process) the worker does not
    // hear of the cancel, and after retryJob it claims the job again at the same attempt
    // number under the same owner id. Only the new claim's lease token fences the first run
    // out: with (attempt, owner) as the fence, its late 'run 1' became the job's result.
    const open = freshDatabase();
    const warnings: string[] = [];
    const worker = engineOn(open({ listen: false }), {
      pollIntervalMs: 50,
      logger: { ...console, debug() {}, warn: (message: string) => warnings.push(message) },
    });
    const operator = engineOn(open({ listen: false }), { workerConcurrency: 0 });
    const gates: (() => void)[] = [];
    const aborted: boolean[] = [];
    const work = worker.durable('fence:cancel-retry', async () => {
      const run = gates.length;
      const { signal } = currentJob()!;
      await new Promise<void>((resolve) => gates.push(resolve));
      aborted[run] = signal.aborted;
      return `run ${run + 1}`;
    });
    await worker.start();
    const handle = await work();
    await waitFor(() => gates.length === 1);
    expect(await operator.getHandle(handle.jobId).cancel()).toBe(true);
    await operator.retryJob(handle.jobId);
    await waitFor(() => gates.length === 2);
    expect(await handle.details()).toMatchObject({ status: 'running', attempt: 1 });

    gates[0]!();
    // The first run's outcome is settled one way or another: discarded at its ack, aborted by
    // a heartbeat that found its lease gone, or (the bug) recorded.
    await waitFor(
      async () =>
        warnings.some((w) => /lease was lost/.test(w)) ||
        aborted[0] === true ||
        (await handle.status()) !== 'running',
    );
    gates[1]!();
    expect(await handle.result(10_000)).toBe('run 2');
    expect(await handle.details()).toMatchObject({ status: 'success', attempt: 1 });
  });

  it('20 concurrent calls with one idempotency key from two instances: one job, one execution', async () => {
    const open = freshDatabase();
    const a = engineOn(open());
    const b = engineOn(open());
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
    expect(await a.listJobs({ name: 'once' })).toHaveLength(1);
    // Stopping drains both instances: any second run either of them had begun is counted.
    await Promise.all([a.stop(), b.stop()]);
    expect(executions).toBe(1);
  });

  it('result() from a second instance after the job finished resolves at once', async () => {
    const open = freshDatabase();
    const first = engineOn(open());
    const fn = first.durable('finished-early', async () => ({ at: new Date(0) }));
    await first.start();
    const handle = await fn();
    await handle.result(10_000);
    await first.stop();
    const second = engineOn(open(), { workerConcurrency: 0, pollIntervalMs: 60_000 });
    const started = performance.now();
    expect(await second.getHandle(handle.jobId).result(10_000)).toEqual({ at: new Date(0) });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('result() in one instance wakes on a push when another instance on the same database finishes', async () => {
    const open = freshDatabase();
    const waiter = engineOn(open(), { workerConcurrency: 0, pollIntervalMs: 60_000 });
    const worker = engineOn(open());
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
  it('refuses unserializable arguments, oversized payloads, bad names and options', async () => {
    const reseolio = engineOn(freshDatabase()(), { maxPayloadBytes: 1024 });
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
});
