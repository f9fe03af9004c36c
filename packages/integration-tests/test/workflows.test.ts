/**
 * Durable workflows on real databases: steps survive a SIGKILL, waits hold nothing, signals
 * reach exactly their job, and many orchestrators awaiting children fit in a few slots.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  JobNotFoundError,
  ReseolioStateError,
  type StorageAdapter,
  sleep,
  step,
  waitForSignal,
} from 'reseolio';
import { describe, expect, it } from 'vitest';
import { startFixture } from './child-process.ts';
import { engineOn, PROCESS_BACKENDS, tempDir, waitFor } from './helpers.ts';

/** The three-step handler of `fixtures/workflow-node.mjs`, with step 3, appending to `log`. */
function threeSteps(log: string) {
  return async (orderId: string) => {
    for (const name of ['step 1', 'step 2', 'step 3']) {
      await step(name, () => appendLine(log, `${name} ${process.pid} ${orderId}`));
    }
    return `done ${orderId}`;
  };
}

function appendLine(file: string, line: string): void {
  writeFileSync(file, `${line}\n`, { flag: 'a' });
}

describe.each(PROCESS_BACKENDS)('workflows on $backend', ({ fresh }) => {
  it('a three-step handler SIGKILLed after step 2 resumes elsewhere: steps 1 and 2 are not called again, step 3 once', async () => {
    const database = fresh();
    const log = join(tempDir(), 'steps.log');
    writeFileSync(log, '');
    const doomed = startFixture('workflow-node.mjs', [...database.fixtureArgs, log]);
    await doomed.waitForLine(/^ready$/, 60_000);
    const producer = engineOn(database.storage(), { workerConcurrency: 0 });
    const handle = await producer.durable('wf:three', threeSteps(log))('order-1');
    await doomed.waitForLine(/^after step 2$/, 30_000);
    doomed.child.kill('SIGKILL');
    await doomed.exited;

    const survivor = engineOn(database.storage(), { leaseMs: 1_000 });
    survivor.durable('wf:three', threeSteps(log));
    await survivor.start();
    expect(await survivor.getHandle(handle.jobId).result(60_000)).toBe('done order-1');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      'step 1',
      'step 2',
      'step 3',
    ]);
    expect(lines[0]).toContain(` ${doomed.child.pid} `);
    expect(lines[2]).toContain(` ${process.pid} `);
    expect((await handle.details()).attempt).toBe(2);
  }, 120_000);

  it('a 10 s sleep with suspendAfterMs 1 s: waiting with no owner, no heartbeat, its slot free; it resumes after every engine was restarted', async () => {
    const database = fresh();
    const heartbeated = new Set<string>();
    const counting = (storage: StorageAdapter | string) => {
      if (typeof storage === 'string') return storage;
      const heartbeat = storage.heartbeat.bind(storage);
      storage.heartbeat = async (input) => {
        for (const job of input.jobs) heartbeated.add(job.id);
        return heartbeat(input);
      };
      return storage;
    };
    const options = { suspendAfterMs: 1_000, workerConcurrency: 1, leaseMs: 600 };
    const first = engineOn(counting(database.storage()), options);
    const sleeper = first.durable('wf:sleeper', async () => {
      await sleep(10_000);
      return Date.now();
    });
    const other = first.durable('wf:other', async () => 'ran meanwhile');
    await first.start();
    const handle = await sleeper();
    await waitFor(async () => (await handle.status()) === 'waiting', { timeoutMs: 30_000 });
    const { waitingFor } = await handle.details();
    expect(waitingFor?.kind).toBe('sleep');
    const wakeAt = (waitingFor as { until: Date }).until.getTime();
    const stored = (await (await database.inspect()).getJob(handle.jobId))!;
    expect(stored).toMatchObject({ status: 'waiting', ownerId: null, leaseExpiresAt: null });
    // The only slot is free: another job runs to its end while the sleeper waits.
    expect(await (await other()).result(30_000)).toBe('ran meanwhile');
    heartbeated.clear();
    // Several heartbeat intervals (200 ms) pass, measured by the other job's run above and
    // the restart below; none may name the sleeping job.
    await first.stop();
    expect(heartbeated.has(handle.jobId)).toBe(false);

    const second = engineOn(counting(database.storage()), options);
    second.durable('wf:sleeper', async () => {
      await sleep(10_000);
      return Date.now();
    });
    await second.start();
    const resumedAt = await second.getHandle<number>(handle.jobId).result(60_000);
    expect(resumedAt).toBeGreaterThanOrEqual(wakeAt);
    console.info(
      `sleep resumed ${resumedAt - wakeAt} ms after its wake time, on a restarted engine`,
    );
  }, 120_000);

  it('signals: one sent before the wait is received; 20 waiting jobs each get theirs from another process; a repeated key is consumed once; a timeout returns null', async () => {
    const database = fresh();
    const worker = engineOn(database.storage(), { suspendAfterMs: 100 });
    const checkout = worker.durable('wf:awaits-payment', async (orderId: string) => {
      const payment = await waitForSignal<Record<string, unknown>>('payment-confirmed');
      const second = await waitForSignal<string>('note', { timeoutMs: 300 });
      return { orderId, payment, second };
    });
    await worker.start();
    const early = await checkout('early');
    // Sent from another engine (a web process) before or while the job waits.
    const sender = engineOn(database.storage(), { workerConcurrency: 0 });
    await sender.signal(early.jobId, 'payment-confirmed', { orderId: 'early', amount: 1 });
    expect(await early.result(30_000)).toEqual({
      orderId: 'early',
      payment: { orderId: 'early', amount: 1 },
      second: null,
    });

    const orders = Array.from({ length: 20 }, (_, i) => `order-${i}`);
    const handles = await Promise.all(orders.map((id) => checkout(id)));
    await waitFor(
      async () =>
        (await worker.listJobs({ status: 'waiting', name: 'wf:awaits-payment' })).length === 20,
      { timeoutMs: 60_000, what: '20 jobs waiting for their payment' },
    );
    // From another process: a web server's webhook handler.
    const web = startFixture('signal-sender.mjs', [
      ...database.fixtureArgs,
      'payment-confirmed',
      ...handles.map((handle) => handle.jobId),
    ]);
    await web.waitForLine(/^sent 20$/, 60_000);
    // The same note twice with one key: the second is a duplicate, consumed never.
    expect(await sender.signal(handles[0]!.jobId, 'note', 'a', { idempotencyKey: 'n1' })).toEqual({
      duplicate: false,
    });
    expect(await sender.signal(handles[0]!.jobId, 'note', 'a', { idempotencyKey: 'n1' })).toEqual({
      duplicate: true,
    });
    const results = await Promise.all(handles.map((handle) => handle.result(60_000)));
    results.forEach((result, i) => {
      expect(result.payment).toEqual({ jobId: handles[i]!.jobId, from: web.child.pid });
      expect(result.orderId).toBe(orders[i]);
    });
    expect(results[0]!.second).toBe('a');
    expect(results.slice(1).every((result) => result.second === null)).toBe(true);
  }, 120_000);

  it('1,000 orchestrators at workerConcurrency 5, each awaiting two slow children: all finish within the limit, waiting ones hold no lease', async () => {
    const database = fresh();
    const inspect = await database.inspect();
    const engine = engineOn(database.storage(), { workerConcurrency: 5, suspendAfterMs: 50 });
    // Handlers holding a slot: children while they run, orchestrators until they park in
    // result() (a parked one lends its slot, then suspends and gives it up).
    let holding = 0;
    let maxHolding = 0;
    const hold = (delta: number) => {
      holding += delta;
      maxHolding = Math.max(maxHolding, holding);
    };
    const child = engine.durable('wf:slow-child', async (n: number) => {
      hold(1);
      try {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return n;
      } finally {
        hold(-1);
      }
    });
    const orchestrator = engine.durable('wf:orchestrator', async (n: number) => {
      hold(1);
      const handles = await Promise.all([child(2 * n), child(2 * n + 1)]);
      hold(-1);
      const [a, b] = await Promise.all(handles.map((handle) => handle.result()));
      return a! + b!;
    });
    await engine.start();
    const handles = await orchestrator.enqueueMany(Array.from({ length: 1000 }, (_, n) => [n]));
    let maxWaiting = 0;
    let leasedWhileWaiting = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const waiting = await inspect.listJobs({ status: 'waiting', limit: 1000 });
        maxWaiting = Math.max(maxWaiting, waiting.length);
        leasedWhileWaiting += waiting.filter(
          (job) => job.ownerId !== null || job.leaseExpiresAt !== null,
        ).length;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const results = await Promise.all(handles.map((handle) => handle.result(170_000)));
    sampling = false;
    await sampler;
    expect(results).toEqual(Array.from({ length: 1000 }, (_, n) => 4 * n + 1));
    expect(maxHolding).toBeLessThanOrEqual(5);
    expect(maxWaiting).toBeGreaterThan(0);
    expect(leasedWhileWaiting).toBe(0);
    console.info(
      `1,000 orchestrators: at most ${maxHolding} handlers held a slot, up to ${maxWaiting} jobs waited at once`,
    );
  }, 180_000);

  it('a waiting job can be cancelled; a signal to a finished or unknown job is refused and stores nothing', async () => {
    const database = fresh();
    const engine = engineOn(database.storage(), { suspendAfterMs: 50 });
    const waiter = engine.durable('wf:cancel-me', async () => waitForSignal('go'));
    await engine.start();
    const handle = await waiter();
    await waitFor(async () => (await handle.status()) === 'waiting', { timeoutMs: 30_000 });
    expect(await handle.cancel()).toBe(true);
    await expect(handle.result(5_000)).rejects.toMatchObject({ code: 'RESEOLIO_JOB_CANCELLED' });
    await expect(engine.signal(handle.jobId, 'go', 1)).rejects.toBeInstanceOf(ReseolioStateError);
    await expect(
      engine.signal('00000000-0000-7000-8000-000000000000', 'go', 1),
    ).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(step('outside', () => 1)).rejects.toBeInstanceOf(ReseolioStateError);
  }, 60_000);
});
