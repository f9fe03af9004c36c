import { describe, expect, it } from 'vitest';
import { ReseolioValidationError, sleep, step, toJobJSON, waitForSignal } from '../src/index.ts';
import { makeEngine, waitFor } from './helpers.ts';

/** The engine API the dashboard reads: filters, keyset pages, counts, completions, attempts. */

describe('listJobs and countJobs filters', () => {
  it('pages by keyset with before, with no gaps or duplicates while jobs are added', async () => {
    const engine = makeEngine({ workerConcurrency: 0 });
    const fn = engine.durable('dash:page', async (n: number) => n);
    for (let i = 0; i < 25; i++) await fn(i);
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await engine.listJobs({ name: 'dash:page', limit: 10, before });
      seen.push(...page.map((j) => j.id));
      // Jobs made meanwhile sort above the cursor: they never shift the pages still to read.
      await fn(100);
      if (page.length < 10) break;
      before = page.at(-1)!.id;
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect([...seen].sort().reverse()).toEqual(seen);
    expect(await engine.countJobs({ name: 'dash:page' })).toBe(25 + 3);
  });

  it('filters by idempotency key and creation time, in lists and counts alike', async () => {
    const engine = makeEngine({ workerConcurrency: 0 });
    const fn = engine.durable('dash:filter', async () => 1);
    const keyed = await fn.enqueue([], { idempotencyKey: 'order-7' });
    await fn();
    const all = await engine.listJobs({ name: 'dash:filter' });
    expect((await engine.listJobs({ idempotencyKey: 'order-7' })).map((j) => j.id)).toEqual([
      keyed.jobId,
    ]);
    expect(await engine.countJobs({ idempotencyKey: 'order-7' })).toBe(1);
    const newest = all[0]!.createdAt.getTime();
    expect(await engine.countJobs({ name: 'dash:filter', createdAfter: newest + 1 })).toBe(0);
    expect(await engine.countJobs({ name: 'dash:filter', createdBefore: newest + 1 })).toBe(2);
    expect(await engine.countJobs({ name: 'dash:filter', createdAfter: 0 })).toBe(2);
    expect(await engine.countJobs({ status: [] })).toBe(0);
  });

  it('refuses bad filters with a validation error that says what to pass', async () => {
    const engine = makeEngine({ workerConcurrency: 0 });
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => engine.listJobs({ before: 'page-2' }), /before.*a job id/],
      [() => engine.listJobs({ limit: 0 }), /limit.*1 to 1000/],
      [() => engine.listJobs({ createdAfter: Number.NaN }), /createdAfter.*epoch milliseconds/],
      [() => engine.countJobs({ createdBefore: Infinity }), /createdBefore/],
      [() => engine.countJobs({ limit: 5 } as never), /no paging option/],
      [() => engine.completions({ bucketMs: -1 }), /bucketMs.*1000 to 86400000/],
      [() => engine.completions({ sinceMs: 86_400_000 * 30, bucketMs: 1000 }), /wider bucketMs/],
      [() => engine.retryJobs({}, { limit: 0 }), /limit/],
      [() => engine.cancelJobs({ status: 'nope' as never }), /status/],
    ];
    for (const [call, message] of cases) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReseolioValidationError);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('completions', () => {
  it('counts final jobs per function and bucket from stored completion times', async () => {
    const engine = makeEngine({ defaults: { maxAttempts: 1, initialDelayMs: 5, jitter: 0 } });
    const ok = engine.durable('dash:ok', async () => 1);
    const bad = engine.durable('dash:bad', async () => {
      throw new Error('no');
    });
    const slow = engine.durable('dash:slow', async () => new Promise(() => {}));
    await engine.start();
    const handles = [await ok(), await ok(), await bad()];
    await Promise.allSettled(handles.map((h) => h.result()));
    const cancelled = await slow.enqueue([], { delayMs: 60_000 });
    await cancelled.cancel();
    const buckets = await engine.completions({ sinceMs: 3_600_000, bucketMs: 3_600_000 });
    const total = (name: string, field: 'success' | 'dead' | 'cancelled') =>
      buckets.filter((b) => b.name === name).reduce((sum, b) => sum + b[field], 0);
    expect([total('dash:ok', 'success'), total('dash:bad', 'dead')]).toEqual([2, 1]);
    expect(total('dash:slow', 'cancelled')).toBe(1);
    for (const bucket of buckets) {
      expect(bucket.bucketStart).toBeInstanceOf(Date);
      expect(bucket.bucketStart.getTime() % 3_600_000).toBe(0);
    }
  });
});

describe('retryJobs and cancelJobs', () => {
  it('cancel then retry every job matching a filter, across pages, and count them', async () => {
    const engine = makeEngine({ workerConcurrency: 0 });
    const fn = engine.durable('dash:bulk', async () => 1);
    const other = engine.durable('dash:bulk-other', async () => 1);
    await fn.enqueueMany(Array.from({ length: 1203 }, () => []));
    await other();
    expect(await engine.cancelJobs({ name: 'dash:bulk' }, { limit: 3 })).toEqual({
      matched: 3,
      changed: 3,
    });
    expect(await engine.cancelJobs({ name: 'dash:bulk' })).toEqual({
      matched: 1200,
      changed: 1200,
    });
    expect(await engine.countJobs({ name: 'dash:bulk', status: 'cancelled' })).toBe(1203);
    expect(await engine.countJobs({ name: 'dash:bulk-other', status: 'pending' })).toBe(1);
    // A status the action does not apply to matches nothing.
    expect(await engine.retryJobs({ name: 'dash:bulk', status: 'pending' })).toEqual({
      matched: 0,
      changed: 0,
    });
    expect(await engine.retryJobs({ name: 'dash:bulk' })).toEqual({
      matched: 1203,
      changed: 1203,
    });
    expect(await engine.countJobs({ name: 'dash:bulk', status: 'pending' })).toBe(1203);
  });
});

describe('details().attempts', () => {
  it('lists a failed attempt, then the successful one, with worker and error', async () => {
    const engine = makeEngine({ workerId: 'node-a' });
    let calls = 0;
    const fn = engine.durable('dash:flaky', async () => {
      calls += 1;
      if (calls === 1) throw new Error('first time');
      return 'ok';
    });
    await engine.start();
    const handle = await fn();
    await handle.result();
    const { attempts } = await handle.details();
    expect(attempts?.map((a) => [a.attempt, a.outcome, a.workerId])).toEqual([
      [1, 'failed', 'node-a'],
      [2, 'success', 'node-a'],
    ]);
    expect(attempts?.[0]?.error?.message).toBe('first time');
    // As JSON (the job routes): ISO dates, no stack.
    const json = toJobJSON(await handle.details());
    expect(json.attempts?.[0]).toMatchObject({ attempt: 1, outcome: 'failed', workerId: 'node-a' });
    expect(json.attempts?.[0]?.error).toEqual({ name: 'Error', message: 'first time' });
    expect(typeof json.attempts?.[1]?.endedAt).toBe('string');
    expect(attempts?.[1]?.error).toBeNull();
    for (const a of attempts ?? [])
      expect(a.endedAt!.getTime()).toBeGreaterThanOrEqual(a.startedAt.getTime());
  });

  it('shows the running attempt, and cancelled when the job is cancelled while it runs', async () => {
    const engine = makeEngine({ workerId: 'node-b' });
    let started = false;
    const fn = engine.durable('dash:long', async () => {
      started = true;
      await new Promise((resolve) => setTimeout(resolve, 60_000));
    });
    await engine.start();
    const handle = await fn();
    await waitFor(() => started);
    expect((await handle.details()).attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        outcome: 'running',
        endedAt: null,
        workerId: 'node-b',
      }),
    ]);
    await handle.cancel();
    expect((await handle.details()).attempts?.map((a) => a.outcome)).toEqual(['cancelled']);
    // listJobs rows carry no attempts.
    expect((await engine.listJobs({ name: 'dash:long' }))[0]?.attempts).toBeUndefined();
  });
});

describe('details().steps', () => {
  it("lists a workflow's steps, sleeps and signals in the order they were recorded, values decoded", async () => {
    const engine = makeEngine();
    const flow = engine.durable('dash:journal', async () => {
      const loaded = await step('load', async () => ({ rows: 2 }));
      await step('load', async () => 'again');
      // A name may hold the key's own separators.
      await step('ship#eu:fast', async () => new Date(0));
      await sleep(5);
      const go = await waitForSignal<{ ok: boolean }>('go');
      const never = await waitForSignal('never', { timeoutMs: 5 });
      return { loaded, go, never };
    });
    await engine.start();
    const handle = await flow();
    await engine.signal(handle.jobId, 'go', { ok: true });
    await handle.result(20_000);

    const { steps } = await handle.details();
    // Recorded to the millisecond: entries of one millisecond may come in another order, but
    // the list is in time order, and a repeated name in call order.
    const entries = steps?.map((s) => [s.kind, s.name, s.occurrence]);
    expect(entries).toHaveLength(6);
    expect(entries).toEqual(
      expect.arrayContaining([
        ['step', 'load', 0],
        ['step', 'load', 1],
        ['step', 'ship#eu:fast', 0],
        ['sleep', null, 0],
        ['signal', 'go', 0],
        // The timed-out wait: its recorded deadline is bookkeeping and is left out.
        ['signal', 'never', 0],
      ]),
    );
    const entry = (kind: string, name: string | null, occurrence = 0) =>
      steps!.find((s) => s.kind === kind && s.name === name && s.occurrence === occurrence)!;
    expect(steps!.indexOf(entry('step', 'load', 0))).toBeLessThan(
      steps!.indexOf(entry('step', 'load', 1)),
    );
    expect(entry('step', 'load').value).toEqual({ rows: 2 });
    expect(entry('step', 'ship#eu:fast').value).toEqual(new Date(0));
    expect(entry('sleep', null).value).toBeInstanceOf(Date);
    expect(entry('signal', 'go').value).toEqual({ ok: true });
    expect(entry('signal', 'never').value).toBeNull();
    for (let i = 1; i < steps!.length; i++) {
      expect(steps![i]!.recordedAt.getTime()).toBeGreaterThanOrEqual(
        steps![i - 1]!.recordedAt.getTime(),
      );
    }

    // As JSON (the job routes and the dashboard): values JSON-safe, times ISO.
    const json = toJobJSON(await handle.details());
    expect(json.steps?.find((s) => s.name === 'ship#eu:fast')).toMatchObject({
      kind: 'step',
      value: '1970-01-01T00:00:00.000Z',
    });
    expect(typeof json.steps?.find((s) => s.kind === 'sleep')?.value).toBe('string');
    expect(typeof json.steps?.[0]?.recordedAt).toBe('string');
  });

  it('is empty for a job that used none, and absent from list rows', async () => {
    const engine = makeEngine();
    const fn = engine.durable('dash:plain', async () => 1);
    await engine.start();
    const handle = await fn();
    await handle.result();
    expect((await handle.details()).steps).toEqual([]);
    expect((await engine.listJobs({ name: 'dash:plain' }))[0]?.steps).toBeUndefined();
  });
});
