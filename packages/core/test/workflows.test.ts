import { describe, expect, it } from 'vitest';
import {
  JobNotFoundError,
  MemoryStorage,
  Reseolio,
  ReseolioStateError,
  sleep,
  step,
  waitForSignal,
} from '../src/index.ts';
import { makeEngine, waitFor } from './helpers.ts';

describe('workflows', () => {
  it('step() runs once per job: a retried handler gets the recorded values', async () => {
    const engine = makeEngine({ defaults: { initialDelayMs: 1, jitter: 0 } });
    const calls = { a: 0, b: 0, c: 0 };
    let attempts = 0;
    const flow = engine.durable('wf:steps', async (x: number) => {
      attempts += 1;
      const a = await step('a', () => {
        calls.a += 1;
        return { value: x + 1, at: new Date(0) };
      });
      const b = await step('b', async () => {
        calls.b += 1;
        return a.value * 2;
      });
      if (attempts === 1) throw new Error('crash after step b');
      const c = await step('c', () => {
        calls.c += 1;
        return b + 1;
      });
      return { a, b, c };
    });
    await engine.start();
    const result = await (await flow(1)).result(10_000);
    expect(result).toEqual({ a: { value: 2, at: new Date(0) }, b: 4, c: 5 });
    expect(calls).toEqual({ a: 1, b: 1, c: 1 });
    expect(attempts).toBe(2);
  });

  it('a repeated step name counts its occurrences; a step that throws is not recorded', async () => {
    const engine = makeEngine({ defaults: { initialDelayMs: 1, jitter: 0 } });
    const runs: string[] = [];
    let failed = false;
    const flow = engine.durable('wf:repeat', async () => {
      const values: number[] = [];
      for (let i = 0; i < 3; i++) {
        values.push(
          await step('item', () => {
            runs.push(`item ${i}`);
            if (i === 2 && !failed) {
              failed = true;
              throw new Error('item 2 fails once');
            }
            return i * 10;
          }),
        );
      }
      return values;
    });
    await engine.start();
    expect(await (await flow()).result(10_000)).toEqual([0, 10, 20]);
    expect(runs).toEqual(['item 0', 'item 1', 'item 2', 'item 2']);
  });

  it('a short sleep holds the slot; a long one suspends: waiting, no owner, then resumes', async () => {
    const storage = new MemoryStorage();
    const engine = makeEngine({ storage, suspendAfterMs: 50 });
    const before: number[] = [];
    const after: number[] = [];
    let runs = 0;
    const flow = engine.durable('wf:sleep', async () => {
      runs += 1;
      await sleep(10);
      before.push(Date.now());
      await sleep(400);
      after.push(Date.now());
      return 'woke';
    });
    await engine.start();
    const handle = await flow();
    await waitFor(async () => (await handle.status()) === 'waiting');
    const details = await handle.details();
    expect(details.waitingFor).toMatchObject({ kind: 'sleep' });
    const record = (await storage.getJob(handle.jobId))!;
    expect(record).toMatchObject({
      status: 'waiting',
      ownerId: null,
      leaseExpiresAt: null,
      attempt: 0,
    });
    expect(await handle.result(10_000)).toBe('woke');
    expect(runs).toBe(2);
    // The wake time was recorded once: the second run did not sleep 400 ms again from its start.
    const wakeAt = (details.waitingFor as { until: Date }).until.getTime();
    expect(after[0]).toBeGreaterThanOrEqual(wakeAt);
    expect((await handle.details()).attempt).toBe(1);
  });

  it('a signal sent before the wait is received; one sent during it wakes the job; the payload is recorded', async () => {
    const engine = makeEngine({ suspendAfterMs: 50 });
    const flow = engine.durable('wf:signals', async () => {
      const first = await waitForSignal<{ plan: string }>('plan');
      const second = await waitForSignal<number>('plan');
      const third = await waitForSignal('never', { timeoutMs: 100 });
      return { first, second, third };
    });
    await engine.start();
    const handle = await flow();
    expect(await engine.signal(handle.jobId, 'plan', { plan: 'pro' })).toEqual({
      duplicate: false,
    });
    await waitFor(async () => {
      const details = await handle.details();
      return (
        details.status === 'waiting' && (details.waitingFor as { kind: string }).kind === 'signal'
      );
    });
    expect((await handle.details()).waitingFor).toEqual({
      kind: 'signal',
      topic: 'plan',
      until: null,
    });
    await engine.signal(handle.jobId, 'plan', 7, { idempotencyKey: 'k' });
    expect(await engine.signal(handle.jobId, 'plan', 8, { idempotencyKey: 'k' })).toEqual({
      duplicate: true,
    });
    expect(await handle.result(10_000)).toEqual({ first: { plan: 'pro' }, second: 7, third: null });
  });

  it('an orchestrator awaiting slow children suspends and resumes when they end', async () => {
    const engine = makeEngine({ suspendAfterMs: 50, workerConcurrency: 2 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let orchestratorRuns = 0;
    const child = engine.durable('wf:child', async (n: number) => {
      await released;
      return n * 2;
    });
    const parent = engine.durable('wf:parent', async () => {
      orchestratorRuns += 1;
      const handles = await Promise.all([child(1), child(2)]);
      return Promise.all(handles.map((h) => h.result()));
    });
    await engine.start();
    const handle = await parent();
    await waitFor(async () => (await handle.status()) === 'waiting');
    const { waitingFor } = await handle.details();
    expect(waitingFor?.kind).toBe('children');
    expect((waitingFor as { jobIds: string[] }).jobIds).toHaveLength(2);
    release();
    expect(await handle.result(10_000)).toEqual([2, 4]);
    expect(orchestratorRuns).toBeGreaterThanOrEqual(2);
  });

  it('cancel of a waiting job; signal to a finished or unknown job; primitives outside a handler', async () => {
    const engine = makeEngine({ suspendAfterMs: 20 });
    const flow = engine.durable('wf:cancel', async () => waitForSignal('go'));
    const quick = engine.durable('wf:quick', async () => 'done');
    await engine.start();
    const handle = await flow();
    await waitFor(async () => (await handle.status()) === 'waiting');
    expect(await handle.cancel()).toBe(true);
    expect(await handle.status()).toBe('cancelled');
    await expect(engine.signal(handle.jobId, 'go', 1)).rejects.toBeInstanceOf(ReseolioStateError);
    const done = await quick();
    await done.result(10_000);
    await expect(engine.signal(done.jobId, 'go')).rejects.toBeInstanceOf(ReseolioStateError);
    await expect(
      engine.signal('00000000-0000-7000-8000-000000000000', 'go'),
    ).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(step('x', () => 1)).rejects.toBeInstanceOf(ReseolioStateError);
    await expect(sleep(1)).rejects.toBeInstanceOf(ReseolioStateError);
    await expect(waitForSignal('x')).rejects.toBeInstanceOf(ReseolioStateError);
    await expect(engine.signal(handle.jobId, '', 1)).rejects.toMatchObject({
      code: 'RESEOLIO_INVALID_INPUT',
    });
    expect((await engine.listJobs({ status: 'waiting' })).length).toBe(0);
  });

  it('a waiting job holds no slot: more waiting workflows than slots all finish', async () => {
    const engine = makeEngine({ suspendAfterMs: 20, workerConcurrency: 2 });
    const flow = engine.durable('wf:many', async (n: number) => {
      const got = await waitForSignal<number>('go');
      return n + (got ?? 0);
    });
    await engine.start();
    const handles = await Promise.all(Array.from({ length: 10 }, (_, i) => flow(i)));
    await waitFor(async () => (await engine.listJobs({ status: 'waiting' })).length === 10, {
      timeoutMs: 10_000,
      what: 'ten waiting jobs',
    });
    await Promise.all(handles.map((h) => engine.signal(h.jobId, 'go', 100)));
    expect(await Promise.all(handles.map((h) => h.result(10_000)))).toEqual(
      Array.from({ length: 10 }, (_, i) => 100 + i),
    );
  });

  it('an unknown engine option is still refused, and suspendAfterMs is bounded', () => {
    expect(() => new Reseolio({ suspendAfterMs: -1 })).toThrow(/suspendAfterMs/);
  });
});
