import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it, vi } from 'vitest';
import {
  AttemptTimeoutError,
  currentJob,
  DuplicateFunctionError,
  JobCancelledError,
  JobFailedError,
  type JobInfo,
  MemoryStorage,
  NonRetryableError,
  PayloadTooLargeError,
  Reseolio,
  ReseolioError,
  ResultTimeoutError,
  SerializationError,
  StorageConfigError,
} from '../src/index.ts';
import { makeEngine, waitFor } from './helpers.ts';

describe('durable functions', () => {
  it('persists a call, runs it and resolves its result, including void results', async () => {
    const engine = makeEngine();
    await engine.start();
    const double = engine.durable('math:double', async (n: number) => n * 2);
    const noop = engine.durable('noop', async () => {});
    const handle = await double(21);
    expect(await handle.result(5000)).toBe(42);
    expect(await (await noop()).result(5000)).toBeUndefined();
    const details = await handle.details();
    expect(details).toMatchObject({
      status: 'success',
      args: [21],
      result: 42,
      attempt: 1,
      maxAttempts: 3,
    });
    expect(details.completedAt).toBeInstanceOf(Date);
    expect(double.functionName).toBe('math:double');
    expect(double.options.maxAttempts).toBe(3);
  });

  it('reads a trailing object with a known key as call options, and dedups on its key', async () => {
    const engine = makeEngine();
    const seen: unknown[][] = [];
    const fn = engine.durable('echo', async (...args: unknown[]) => {
      seen.push(args);
      return args.length;
    });
    await engine.start();
    const a = await fn('x', { idempotencyKey: 'k1' });
    const b = await fn('x', { idempotencyKey: 'k1' });
    expect(a.jobId).toBe(b.jobId);
    expect(await a.result(5000)).toBe(1);
    const plain = await fn('y', { not: 'options' });
    expect(await plain.result(5000)).toBe(2);
    await expect(fn('z', { idempotencyKey: 'k2', idempotencyKye: 'typo' })).rejects.toThrow(
      /Unknown call option "idempotencyKye"/,
    );
    const viaEnqueue = await fn.enqueue([{ delayMs: 1 }], { idempotencyKey: 'k3' });
    expect(await viaEnqueue.result(5000)).toBe(1);
    expect(seen).toContainEqual([{ delayMs: 1 }]);
  });

  it('sets no overflowing timer for a job due in more than 24.8 days', async () => {
    // setTimeout past 2^31 - 1 ms fires at once, with a TimeoutOverflowWarning.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const engine = makeEngine();
      const fn = engine.durable('far:future', async () => 'later');
      await engine.start();
      // The due timer is armed while enqueue() returns: every delay asked of setTimeout then
      // is seen here, and Node would have warned by the next turn.
      const delays: number[] = [];
      const realSetTimeout = globalThis.setTimeout;
      const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
        callback: () => void,
        ms?: number,
      ) => {
        delays.push(ms ?? 0);
        return realSetTimeout(callback, ms);
      }) as typeof setTimeout);
      let handle: Awaited<ReturnType<typeof fn.enqueue>>;
      try {
        handle = await fn.enqueue([], { delayMs: 40 * 24 * 3600_000 });
      } finally {
        spy.mockRestore();
      }
      expect(delays.length).toBeGreaterThan(0);
      expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(await handle.status()).toBe('pending');
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('does not run a delayed job before its time', async () => {
    const engine = makeEngine();
    let ranAt = 0;
    const fn = engine.durable('delayed', async () => {
      ranAt = Date.now();
    });
    await engine.start();
    const started = Date.now();
    const handle = await fn.enqueue([], { delayMs: 300 });
    expect(await handle.status()).toBe('pending');
    await handle.result(5000);
    expect(ranAt - started).toBeGreaterThanOrEqual(290);
    const runAt = new Date(Date.now() + 100);
    const second = await fn.enqueue([], { runAt });
    expect((await second.details()).runAt.getTime()).toBe(runAt.getTime());
  });

  it('retries failed attempts with backoff and emits every step', async () => {
    const engine = makeEngine();
    const events: string[] = [];
    for (const name of ['job:start', 'job:error', 'job:retry', 'job:success'] as const) {
      engine.on(name, (job: JobInfo) => events.push(`${name}#${job.attempt}`));
    }
    let calls = 0;
    const flaky = engine.durable('flaky', async () => {
      calls += 1;
      if (calls < 3) throw new Error(`boom ${calls}`);
      return 'ok';
    });
    await engine.start();
    const handle = await flaky();
    expect(await handle.result(5000)).toBe('ok');
    expect((await handle.details()).attempt).toBe(3);
    expect(events).toEqual([
      'job:start#1',
      'job:error#1',
      'job:retry#1',
      'job:start#2',
      'job:error#2',
      'job:retry#2',
      'job:start#3',
      'job:success#3',
    ]);
  });

  it('goes dead after maxAttempts and rejects result() with the stored error', async () => {
    const engine = makeEngine();
    const dead: string[] = [];
    engine.on('job:dead', (job) => dead.push(job.id));
    const failing = engine.durable(
      'always-fails',
      async () => {
        throw Object.assign(new Error('card declined', { cause: new Error('issuer') }), {
          code: 'DECLINED',
        });
      },
      { maxAttempts: 2 },
    );
    await engine.start();
    const handle = await failing();
    const error = await handle.result(5000).catch((e) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({
      errorName: 'Error',
      errorCode: 'DECLINED',
      code: 'RESEOLIO_JOB_FAILED',
    });
    expect(error.message).toContain('card declined');
    const details = await handle.details();
    expect(details).toMatchObject({ status: 'dead', attempt: 2 });
    expect(details.error).toMatchObject({
      name: 'Error',
      message: 'card declined',
      code: 'DECLINED',
      cause: { message: 'issuer' },
    });
    expect(details.error?.stack).toContain('card declined');
    expect(dead).toEqual([handle.jobId]);
  });

  it('ends at once on NonRetryableError or an error with retryable: false', async () => {
    const engine = makeEngine();
    const a = engine.durable('non-retryable', async () => {
      throw new NonRetryableError('out of stock', { code: 'OUT_OF_STOCK' });
    });
    const b = engine.durable('retryable-false', async () => {
      throw Object.assign(new Error('no'), { retryable: false });
    });
    await engine.start();
    const [ha, hb] = [await a(), await b()];
    await expect(ha.result(5000)).rejects.toMatchObject({
      errorName: 'NonRetryableError',
      errorCode: 'OUT_OF_STOCK',
    });
    await expect(hb.result(5000)).rejects.toBeInstanceOf(JobFailedError);
    expect((await ha.details()).attempt).toBe(1);
    expect((await hb.details()).attempt).toBe(1);
  });

  it('aborts the signal when an attempt times out and counts it as a failed attempt', async () => {
    const engine = makeEngine();
    const reasons: unknown[] = [];
    const slow = engine.durable(
      'slow',
      async () => {
        const { signal, attempt } = currentJob()!;
        if (attempt === 1) {
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
          reasons.push(signal.reason);
          return 'late';
        }
        return 'second';
      },
      { timeoutMs: 50 },
    );
    await engine.start();
    const handle = await slow();
    expect(await handle.result(5000)).toBe('second');
    expect(reasons[0]).toBeInstanceOf(AttemptTimeoutError);
    expect((await handle.details()).attempt).toBe(2);
    expect((await handle.details()).error?.name).toBe('AttemptTimeoutError');
  });

  it('cancels pending and running jobs; result() rejects with JobCancelledError', async () => {
    const engine = makeEngine();
    let abortReason: unknown;
    const blocking = engine.durable('blocking', async () => {
      const { signal } = currentJob()!;
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      abortReason = signal.reason;
    });
    await engine.start();
    const pending = await blocking.enqueue([], { delayMs: 60_000 });
    expect(await pending.cancel()).toBe(true);
    expect(await pending.status()).toBe('cancelled');
    expect(await pending.cancel()).toBe(false);
    const running = await blocking();
    await waitFor(async () => (await running.status()) === 'running');
    expect(await running.cancel()).toBe(true);
    await expect(running.result(5000)).rejects.toBeInstanceOf(JobCancelledError);
    await waitFor(() => abortReason !== undefined);
    expect(abortReason).toBeInstanceOf(JobCancelledError);
    expect(await running.status()).toBe('cancelled');
  });

  it('runs a dead job again with retryJob', async () => {
    const engine = makeEngine();
    let fail = true;
    const fn = engine.durable(
      'retry-me',
      async () => {
        if (fail) throw new Error('not yet');
        return 'done';
      },
      { maxAttempts: 1 },
    );
    await engine.start();
    const handle = await fn();
    await expect(handle.result(5000)).rejects.toBeInstanceOf(JobFailedError);
    fail = false;
    const again = await engine.retryJob(handle.jobId);
    expect(await again.result(5000)).toBe('done');
    await expect(engine.retryJob(handle.jobId)).rejects.toThrow(/only dead or cancelled/);
  });

  it('rejects result() after its timeout while the job keeps running', async () => {
    const engine = makeEngine();
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const fn = engine.durable('takes-a-while', async () => {
      await finishing;
      return 1;
    });
    await engine.start();
    const handle = await fn();
    await expect(handle.result(20)).rejects.toBeInstanceOf(ResultTimeoutError);
    finish();
    expect(await handle.result(5000)).toBe(1);
  });

  it('gives currentJob() inside a handler and undefined outside', async () => {
    const engine = makeEngine();
    const fn = engine.durable('who-am-i', async () => {
      const job = currentJob()!;
      return { id: job.jobId, name: job.name, attempt: job.attempt, aborted: job.signal.aborted };
    });
    await engine.start();
    const handle = await fn();
    expect(await handle.result(5000)).toEqual({
      id: handle.jobId,
      name: 'who-am-i',
      attempt: 1,
      aborted: false,
    });
    expect(currentJob()).toBeUndefined();
  });

  it('claims only the names it registered', async () => {
    const storage = new MemoryStorage();
    const claims: { names: readonly string[]; done: boolean }[] = [];
    const claim = storage.claim.bind(storage);
    storage.claim = async (input) => {
      const entry = { names: input.names, done: false };
      claims.push(entry);
      const jobs = await claim(input);
      entry.done = true;
      return jobs;
    };
    const producer = makeEngine({ storage, workerConcurrency: 0 });
    const worker = makeEngine({ storage });
    const unknown = producer.durable('only-on-producer', async () => 'x');
    worker.durable('something-else', async () => 'y');
    await producer.start();
    await worker.start();
    const handle = await unknown();
    // The worker polls: once a claim made after the insert has answered, the job would have
    // been taken if the worker claimed it.
    const before = claims.length;
    await waitFor(() => claims.slice(before).some((c) => c.done));
    expect(await handle.status()).toBe('pending');
    expect(claims.filter((c) => c.names.includes('only-on-producer'))).toEqual([]);
  });

  it('asks storage for work once per announcement, not again for every freed slot', async () => {
    // Jobs made by another engine, one at a time: each is announced once, so one claim per
    // job suffices. A worker that re-claimed whenever a slot freed (handler returned, outcome
    // committed) made three claims per job, two of them finding nothing.
    const storage = new MemoryStorage();
    let claims = 0;
    const claim = storage.claim.bind(storage);
    storage.claim = (input) => {
      claims += 1;
      return claim(input);
    };
    const producer = makeEngine({ storage, workerConcurrency: 0, pollIntervalMs: 60_000 });
    const worker = makeEngine({ storage, pollIntervalMs: 60_000 });
    const onProducer = producer.durable('counted', async (n: number) => n);
    worker.durable('counted', async (n: number) => n);
    await producer.start();
    await worker.start();
    await waitFor(() => claims > 0);
    const before = claims;
    for (let i = 0; i < 20; i++) expect(await (await onProducer(i)).result(5000)).toBe(i);
    expect(claims - before).toBeLessThanOrEqual(21);
    // Work that arrives later is still claimed at once.
    expect(await (await onProducer(99)).result(5000)).toBe(99);
  });

  it('fills every slot freed in one turn with one claim', async () => {
    // A backlog of fast jobs: a claimed batch's handlers all return in the same turn. Claiming
    // at the first freed slot made claims of one job (10, 9, 1, 1, 10, 9, … at concurrency
    // 10: nearly twice the claims, half of them for one job).
    const storage = new MemoryStorage();
    const sizes: number[] = [];
    const claim = storage.claim.bind(storage);
    storage.claim = async (input) => {
      const claimed = await claim(input);
      sizes.push(claimed.length);
      return claimed;
    };
    const producer = makeEngine({ storage, workerConcurrency: 0, pollIntervalMs: 60_000 });
    const enqueue = producer.durable('backlog', async () => {});
    await producer.start();
    await enqueue.enqueueMany(Array.from({ length: 100 }, () => [] as []));
    const worker = makeEngine({ storage, workerConcurrency: 10, pollIntervalMs: 60_000 });
    let ran = 0;
    worker.durable('backlog', async () => {
      ran += 1;
    });
    await worker.start();
    await waitFor(() => ran === 100);
    // Ten full claims, and at most one that finds the queue empty.
    expect(sizes.filter((n) => n > 0)).toEqual(Array(10).fill(10));
    expect(sizes.length).toBeLessThanOrEqual(11);
  });
});

describe('leases', () => {
  it('heartbeats every job of a claimed batch (one claim writes one token on all of them)', async () => {
    const storage = new MemoryStorage();
    const heartbeats: number[] = [];
    const heartbeat = storage.heartbeat.bind(storage);
    storage.heartbeat = async (input) => {
      heartbeats.push(input.jobs.length);
      return heartbeat(input);
    };
    const engine = new Reseolio({
      storage,
      workerConcurrency: 4,
      leaseMs: 300,
      heartbeatIntervalMs: 50,
      pollIntervalMs: 20,
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: number[] = [];
    engine.durable('batch:held', async (id: number) => {
      started.push(id);
      await released;
      return id;
    });
    // Made elsewhere, so the worker claims all three in one batch.
    const producer = new Reseolio({ storage, workerConcurrency: 0 });
    const enqueue = producer.durable('batch:held', async (id: number) => id);
    const handles = await Promise.all([1, 2, 3].map((id) => enqueue(id)));
    await engine.start();
    await waitFor(() => started.length === 3);
    // Well past the 300 ms lease: only heartbeats of all three keep them.
    const from = heartbeats.length;
    await waitFor(() => heartbeats.length >= from + 10);
    expect(heartbeats.slice(from).every((jobs) => jobs === 3)).toBe(true);
    release();
    for (const handle of handles) {
      expect(await handle.result(5_000)).toBeTypeOf('number');
      expect((await handle.details()).attempt).toBe(1);
    }
    expect(started).toHaveLength(3);
    await engine.stop();
    await producer.stop();
  });
});

describe('two attempts of one job in one process', () => {
  it('a job claimed again here while its first attempt still runs: the first stops, the second is tracked', async () => {
    // What a database crash that undid a claim looks like to the worker: the job is pending
    // again (attempt given back), and the same process claims it again while the first
    // attempt still runs. Simulated by handing the first claim back behind the engine's back.
    const storage = new MemoryStorage();
    const engine = new Reseolio({ storage, workerConcurrency: 2, pollIntervalMs: 20 });
    const runs: { signal: AbortSignal; finish: () => void }[] = [];
    engine.durable('twice:here', async () => {
      const { signal } = currentJob()!;
      await new Promise<void>((finish) => runs.push({ signal, finish }));
      return runs.length;
    });
    const producer = new Reseolio({ storage, workerConcurrency: 0 });
    const enqueue = producer.durable('twice:here', async () => 0);
    await engine.start();
    const handle = await enqueue();
    await waitFor(() => runs.length === 1);
    const first = (await storage.getJob(handle.jobId))!;
    expect(
      await storage.ack({
        kind: 'release',
        id: first.id,
        leaseToken: first.leaseToken!,
        attempt: first.attempt - 1,
        now: Date.now(),
      }),
    ).toBe(true);
    await waitFor(() => runs.length === 2);
    // The first attempt's lease is gone: it is told at once, not at its next heartbeat.
    expect(runs[0]!.signal.aborted).toBe(true);
    expect(runs[1]!.signal.aborted).toBe(false);
    runs[0]!.finish();
    // The second attempt is still the engine's: stop() hands it back instead of forgetting it.
    await engine.stop({ timeoutMs: 50 });
    expect(runs[1]!.signal.aborted).toBe(true);
    expect(await storage.getJob(handle.jobId)).toMatchObject({ status: 'pending', attempt: 0 });
    await producer.stop();
  });
});

describe('orchestration', () => {
  it('fans out 50 children with workerConcurrency 2 without deadlock', async () => {
    const engine = makeEngine({ workerConcurrency: 2 });
    const child = engine.durable('fan:child', async (i: number) => i);
    const parent = engine.durable('fan:parent', async (n: number) => {
      const handles = await Promise.all(Array.from({ length: n }, (_, i) => child(i)));
      const values = await Promise.all(handles.map((h) => h.result()));
      return values.reduce((a, b) => a + b, 0);
    });
    await engine.start();
    expect(await (await parent(50)).result(10_000)).toBe(1225);
  });

  it('re-attaches a retried orchestrator to its children: each runs once, parentId recorded', async () => {
    const engine = makeEngine();
    const runs = new Map<string, number>();
    const step = engine.durable('saga:step', async (label: string) => {
      runs.set(label, (runs.get(label) ?? 0) + 1);
      return label;
    });
    let orchestratorAttempts = 0;
    const saga = engine.durable('saga:run', async () => {
      orchestratorAttempts += 1;
      const a = await step('a');
      const b = await step('b');
      const results = [await a.result(), await b.result()];
      if (orchestratorAttempts === 1) throw new Error('crash after starting children');
      return results;
    });
    await engine.start();
    const handle = await saga();
    expect(await handle.result(5000)).toEqual(['a', 'b']);
    expect(orchestratorAttempts).toBe(2);
    expect(Object.fromEntries(runs)).toEqual({ a: 1, b: 1 });
    const children = await engine.listJobs({ parentId: handle.jobId });
    expect(children).toHaveLength(2);
    expect(children.map((c) => c.idempotencyKey).sort()).toEqual([
      `child:${handle.jobId}:0`,
      `child:${handle.jobId}:1`,
    ]);
  });
});

describe('idempotency', () => {
  it('20 concurrent calls with one key make one job and one execution', async () => {
    const engine = makeEngine();
    let executions = 0;
    const dedups: string[] = [];
    engine.on('deduplicated', (job) => dedups.push(job.id));
    const fn = engine.durable('once', async () => {
      executions += 1;
    });
    await engine.start();
    const handles = await Promise.all(
      Array.from({ length: 20 }, () => fn({ idempotencyKey: 'same' })),
    );
    expect(new Set(handles.map((h) => h.jobId)).size).toBe(1);
    await handles[0]!.result(5000);
    expect(executions).toBe(1);
    expect(dedups).toHaveLength(19);
  });
});

describe('local runs (a job inserted already leased to its caller)', () => {
  /** MemoryStorage that counts claims and can hold enqueues at a gate. */
  function countingStorage() {
    const storage = new MemoryStorage();
    /** Claims begun, claims answered, and inserts leased to their caller. */
    const counts = { claims: 0, claimsAnswered: 0, leasedInserts: 0 };
    let gate: Promise<void> | undefined;
    const claim = storage.claim.bind(storage);
    const enqueue = storage.enqueue.bind(storage);
    storage.claim = async (input) => {
      counts.claims += 1;
      const jobs = await claim(input);
      counts.claimsAnswered += 1;
      return jobs;
    };
    storage.enqueue = async (job, options) => {
      if (options?.lease) counts.leasedInserts += 1;
      await gate;
      return enqueue(job, options);
    };
    return {
      storage,
      counts,
      hold(): () => void {
        let open!: () => void;
        gate = new Promise((resolve) => {
          open = resolve;
        });
        return () => {
          gate = undefined;
          open();
        };
      },
    };
  }

  it('runs a job due now in the calling process without a claim', async () => {
    const { storage, counts } = countingStorage();
    const engine = makeEngine({ storage, pollIntervalMs: 60_000 });
    const starts: JobInfo[] = [];
    engine.on('job:start', (info) => starts.push(info));
    const fn = engine.durable('local', async (n: number) => n + 1);
    await engine.start();
    await waitFor(() => counts.claims > 0);
    const claimsBefore = counts.claims;
    for (let i = 0; i < 10; i++) expect(await (await fn(i)).result(5000)).toBe(i + 1);
    expect(counts.claims).toBe(claimsBefore);
    expect(counts.leasedInserts).toBe(10);
    expect(starts).toHaveLength(10);
    const [job] = await engine.listJobs({ name: 'local', limit: 1 });
    expect(job).toMatchObject({ status: 'success', attempt: 1, result: 10 });
    expect(job!.startedAt).toEqual(job!.createdAt);
  });

  it("starts the job outside the caller's async context", async () => {
    const requestContext = new AsyncLocalStorage<string>();
    const { storage, counts } = countingStorage();
    const engine = makeEngine({ storage, pollIntervalMs: 60_000 });
    const seen = engine.durable('context', async () => requestContext.getStore() ?? 'none');
    await engine.start();
    // The first claim found nothing, so the next call runs locally.
    await waitFor(() => counts.claimsAnswered >= 1);
    const handle = await requestContext.run('request-1', () => seen());
    expect(await handle.result(5000)).toBe('none');
    expect((await handle.details()).startedAt).toEqual((await handle.details()).createdAt);
  });

  it('queues new jobs behind a backlog instead of overtaking it', async () => {
    const { storage } = countingStorage();
    const engine = makeEngine({ storage, workerConcurrency: 1, pollIntervalMs: 60_000 });
    const order: string[] = [];
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const blocker = engine.durable('blocker', () => gate);
    const step = engine.durable('step', async (label: string) => {
      order.push(label);
    });
    await engine.start();
    const blocking = await blocker();
    const queued = [await step('a'), await step('b'), await step('c')];
    openGate();
    await blocking.result(5000);
    const late = await step('d');
    await Promise.all([...queued, late].map((h) => h.result(5000)));
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('frees the reserved slot when the enqueue is a duplicate or fails', async () => {
    const { storage } = countingStorage();
    const engine = makeEngine({ storage, workerConcurrency: 1, pollIntervalMs: 60_000 });
    const fn = engine.durable('keyed', async (n: number) => n);
    await engine.start();
    const first = await fn(1, { idempotencyKey: 'k' });
    expect(await first.result(5000)).toBe(1);
    const again = await fn(2, { idempotencyKey: 'k' });
    expect(again.jobId).toBe(first.jobId);
    const enqueue = storage.enqueue;
    storage.enqueue = () => Promise.reject(new Error('database down'));
    await expect(fn(3)).rejects.toThrow('database down');
    storage.enqueue = enqueue;
    // With the slot leaked, this job would never run (concurrency 1).
    expect(await (await fn(4)).result(5000)).toBe(4);
  });

  it('stop() waits for an insert in flight by awaiting it, not by polling a timer', async () => {
    const { storage, hold, counts } = countingStorage();
    const engine = new Reseolio({ storage, pollIntervalMs: 60_000 });
    const fn = engine.durable('late:no-poll', async () => {});
    await engine.start();
    // The first claim found nothing, so the next call runs locally: its insert is reserved.
    await waitFor(() => counts.claimsAnswered >= 1);
    const open = hold();
    const calling = fn();
    await waitFor(() => counts.leasedInserts === 1);
    // From here no timeout fires: a stop() that polled with setTimeout would never return.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const stopping = engine.stop({ timeoutMs: 1000 });
      open();
      await calling;
      await stopping;
      expect(engine.state).toBe('stopped');
    } finally {
      vi.useRealTimers();
    }
  });

  it('hands back a job whose leased insert answers after stop() began', async () => {
    const { storage, hold, counts } = countingStorage();
    const engine = new Reseolio({ storage, pollIntervalMs: 60_000 });
    const ran: number[] = [];
    const fn = engine.durable('late', async (n: number) => {
      ran.push(n);
    });
    await engine.start();
    await waitFor(() => counts.claimsAnswered >= 1);
    const open = hold();
    const calling = fn(1);
    await waitFor(() => counts.leasedInserts === 1);
    const stopping = engine.stop({ timeoutMs: 1000 });
    let stopped = false;
    void stopping.then(() => {
      stopped = true;
    });
    // Nothing in stop() waits on a timer here (no attempt runs, so the drain deadline plays
    // no part): after a few event-loop turns it can only be parked on the insert in flight.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false); // waits for the insert in flight
    open();
    const handle = await calling;
    await stopping;
    expect(ran).toEqual([]);
    expect(await storage.getJob(handle.jobId)).toMatchObject({
      status: 'pending',
      attempt: 0,
      ownerId: null,
    });
  });
});

describe('shutdown', () => {
  it('hands a job still running at the deadline back as pending, attempt not consumed', async () => {
    const storage = new MemoryStorage();
    const own = new Reseolio({ storage, pollIntervalMs: 50 });
    const fn2 = own.durable('never-ends', async () => new Promise(() => {}));
    await own.start();
    const handle = await fn2();
    await waitFor(async () => (await handle.status()) === 'running');
    const stopped: string[] = [];
    own.on('stopped', () => stopped.push('stopped'));
    await own.stop({ timeoutMs: 50 });
    const record = await storage.getJob(handle.jobId);
    expect(record).toMatchObject({ status: 'pending', attempt: 0, ownerId: null });
    expect(stopped).toEqual(['stopped']);
    await expect(fn2()).rejects.toThrow(/stopped/);
  });

  it('lets a running job finish within the drain deadline', async () => {
    const storage = new MemoryStorage();
    const engine = new Reseolio({ storage, pollIntervalMs: 50 });
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const fn = engine.durable('short', async () => {
      await finishing;
      return 'finished';
    });
    await engine.start();
    const handle = await fn();
    await waitFor(async () => (await storage.getJob(handle.jobId))?.status === 'running');
    // The job ends only once stop() has begun.
    const stopping = engine.stop({ timeoutMs: 5000 });
    finish();
    await stopping;
    expect(await storage.getJob(handle.jobId)).toMatchObject({
      status: 'success',
      result: '"finished"',
    });
  });
});

describe('bad input stores nothing', () => {
  it('refuses function and symbol arguments and payloads over the limit', async () => {
    const engine = makeEngine({ maxPayloadBytes: 100 });
    const fn = engine.durable('takes-anything', async (..._args: unknown[]) => {});
    await expect(fn(() => 1)).rejects.toBeInstanceOf(SerializationError);
    await expect(fn({ s: Symbol('x') })).rejects.toThrow(/symbol/);
    const tooBig = await fn('x'.repeat(200)).catch((e) => e);
    expect(tooBig).toBeInstanceOf(PayloadTooLargeError);
    expect(tooBig.message).toMatch(/raise `maxPayloadBytes`/);
    expect(await engine.listJobs()).toEqual([]);
  });

  it('refuses invalid names, options and duplicate registrations with typed errors', async () => {
    const engine = makeEngine();
    expect(() => engine.durable('', async () => {})).toThrow(/Invalid durable function name/);
    expect(() => engine.durable('a b', async () => {})).toThrow(ReseolioError);
    expect(() => engine.namespace('orders', 'a:b')).toThrow(/no ':' or '\/'/);
    expect(() => engine.namespace('orders', '')).toThrow(/Invalid namespace part 2/);
    expect(() => engine.durable('x', async () => {}, { maxAttempts: 0 })).toThrow(
      /"maxAttempts": got 0/,
    );
    expect(() => engine.durable('x', async () => {}, { backoff: 'random' as 'fixed' })).toThrow(
      /backoff/,
    );
    expect(() => engine.durable('x', async () => {}, { jitter: 2 })).toThrow(/jitter/);
    expect(() => engine.durable('x', async () => {}, { retries: 3 } as object)).toThrow(
      /Unknown durable\(\) option "retries"/,
    );
    expect(() => new Reseolio({ workerConcurrency: -1 })).toThrow(/workerConcurrency/);
    expect(() => new Reseolio({ leaseMs: 'long' as unknown as number })).toThrow(/leaseMs/);
    expect(() => new Reseolio({ storag: 'x' } as object)).toThrow(
      /Unknown Reseolio option "storag"/,
    );
    const fn = engine.durable('x', async () => {});
    expect(() => engine.durable('x', async () => {})).toThrow(DuplicateFunctionError);
    await expect(fn({ delayMs: -5 })).rejects.toThrow(/delayMs/);
    await expect(fn({ idempotencyKey: '' })).rejects.toThrow(/idempotencyKey/);
    await expect(fn({ runAt: new Date('nope') })).rejects.toThrow(/runAt/);
    await expect(fn({ maxAttempts: 1.5 })).rejects.toThrow(/maxAttempts/);
    expect(await engine.listJobs()).toEqual([]);
  });

  it('names the scheme of an unknown storage URL', async () => {
    const engine = new Reseolio({ storage: 'mysql://localhost/db' });
    const error = await engine.start().catch((e) => e);
    expect(error).toBeInstanceOf(StorageConfigError);
    expect(error.message).toMatch(/Unknown storage URL scheme "mysql:"/);
  });

  it('rejects result() for a job that does not exist', async () => {
    const engine = makeEngine();
    await expect(engine.getHandle('missing').result(1000)).rejects.toMatchObject({
      code: 'RESEOLIO_JOB_NOT_FOUND',
    });
  });
});

describe('during stop', () => {
  it('still accepts calls while draining, and refuses them once stopped', async () => {
    const storage = new MemoryStorage();
    const engine = new Reseolio({ storage, pollIntervalMs: 50 });
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const slow = engine.durable('drain:slow', () => finishing);
    const other = engine.durable('drain:other', async () => 'later');
    expect(engine.isRegistered('drain:slow')).toBe(true);
    expect(engine.isRegistered('drain:nope')).toBe(false);
    await engine.start();
    const running = await slow();
    await waitFor(async () => (await running.status()) === 'running');
    const stopping = engine.stop({ timeoutMs: 5000 });
    // The slow job holds the drain open until the call below has been accepted.
    const queued = await other();
    finish();
    await stopping;
    expect(await storage.getJob(queued.jobId)).toMatchObject({ status: 'pending', attempt: 0 });
    await expect(other()).rejects.toThrow(/stopped/);
  });
});

describe('lifecycle', () => {
  /** Memory storage whose first `failures` inits fail, as a database that is still down. */
  class FlakyStorage extends MemoryStorage {
    failures: number;
    inits = 0;
    constructor(failures: number) {
      super();
      this.failures = failures;
    }
    override async init(): Promise<void> {
      this.inits += 1;
      if (this.inits <= this.failures) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return super.init();
    }
  }

  it('tries init again after a failed one: calls, result() and start() recover', async () => {
    const storage = new FlakyStorage(2);
    const engine = new Reseolio({ storage, pollIntervalMs: 50 });
    const fn = engine.durable('lifecycle:flaky', async (n: number) => n + 1);
    await expect(engine.init()).rejects.toThrow(/ECONNREFUSED/);
    await expect(fn(1)).rejects.toThrow(/ECONNREFUSED/);
    const handle = await fn(1);
    await engine.start();
    expect(await handle.result(5_000)).toBe(2);
    expect(storage.inits).toBe(3);
    await engine.stop();
  });

  it('tries start() again after a failed one', async () => {
    const storage = new FlakyStorage(1);
    const engine = new Reseolio({ storage, pollIntervalMs: 50 });
    const fn = engine.durable('lifecycle:start', async () => 'ran');
    await expect(engine.start()).rejects.toThrow(/ECONNREFUSED/);
    await engine.start();
    expect(engine.state).toBe('started');
    expect(await (await fn()).result(5_000)).toBe('ran');
    await engine.stop();
  });

  it('refuses an incomplete storage adapter before running anything', async () => {
    // Without ackMany an adapter used to start, run its jobs, fail every outcome write and run
    // each job again until it died.
    const storage = new MemoryStorage();
    Object.defineProperty(storage, 'ackMany', { value: undefined });
    const engine = new Reseolio({ storage });
    const fn = engine.durable('lifecycle:incomplete', async () => 'ran');
    await expect(engine.start()).rejects.toThrow(
      /not a complete storage adapter \(missing ackMany\)/,
    );
    await expect(fn()).rejects.toBeInstanceOf(StorageConfigError);
    const noCapabilities = new MemoryStorage();
    Object.defineProperty(noCapabilities, 'capabilities', { value: { multiProcess: true } });
    await expect(new Reseolio({ storage: noCapabilities }).init()).rejects.toThrow(
      /capabilities without boolean crossProcessNotify, leasedEnqueue/,
    );
  });

  it('refuses start() after stop() instead of silently doing nothing', async () => {
    const started = new Reseolio({ storage: new MemoryStorage() });
    await started.start();
    await started.stop();
    await expect(started.start()).rejects.toThrow(
      /Cannot start: this Reseolio instance is stopped; create a new instance/,
    );
    const neverStarted = new Reseolio({ storage: new MemoryStorage() });
    await neverStarted.stop();
    await expect(neverStarted.start()).rejects.toBeInstanceOf(ReseolioError);
  });
});

describe("the database's clock", () => {
  /** Memory storage with a clock of its own, as PostgreSQL's `clock_timestamp()`. */
  class ClockedStorage extends MemoryStorage {
    readonly databaseNow = () => Date.now();
    async currentTime(): Promise<number> {
      return this.databaseNow();
    }
  }
  const skewedBy = (ms: number) => ({ now: () => Date.now() + ms });

  it('stamps jobs and leases on the database clock whatever the process clock says', async () => {
    for (const skew of [40_000, -40_000]) {
      const storage = new ClockedStorage();
      const warnings: string[] = [];
      const logger = { ...console, warn: (message: string) => warnings.push(message) };
      const engine = new Reseolio({ storage, pollIntervalMs: 50, logger }, skewedBy(skew));
      const fn = engine.durable('clock:stamp', async () => 'ok');
      await engine.start();
      const before = Date.now();
      const handle = await fn();
      expect(await handle.result(5_000)).toBe('ok');
      const record = (await storage.getJob(handle.jobId))!;
      // Within a generous bound of the real time, nowhere near the 40 s skew.
      expect(Math.abs(record.createdAt - before)).toBeLessThan(5_000);
      expect(Math.abs(record.startedAt! - before)).toBeLessThan(5_000);
      expect(warnings.join('\n')).toMatch(
        new RegExp(`clock is \\d+ ms ${skew > 0 ? 'ahead of' : 'behind'} the database's`),
      );
      await engine.stop();
    }
  });

  it('does not run a delayed job early on a node whose clock is ahead', async () => {
    const storage = new ClockedStorage();
    const ahead = new Reseolio(
      { storage, pollIntervalMs: 20, logger: { ...console, warn() {} } },
      skewedBy(40_000),
    );
    let claims = 0;
    const claim = storage.claim.bind(storage);
    storage.claim = async (input) => {
      claims += 1;
      return claim(input);
    };
    ahead.durable('clock:delayed', async () => 'ran');
    await ahead.start();
    // Made by a node whose clock is right: due 30 s from now, 10 s before the other's "now".
    const producer = new Reseolio({ storage, workerConcurrency: 0 });
    const fn = producer.durable('clock:delayed', async () => 'ran');
    const handle = await fn.enqueue([], { delayMs: 30_000 });
    // Many claims come and go (one per poll), none of which may take the job.
    await waitFor(() => claims >= 10);
    expect(await handle.status()).toBe('pending');
    await ahead.stop();
    await producer.stop();
  });

  it('keeps the process clock when storage has no clock of its own (SQLite, memory)', async () => {
    const storage = new MemoryStorage();
    const engine = new Reseolio({ storage }, skewedBy(40_000));
    const fn = engine.durable('clock:none', async () => 'ok');
    const handle = await fn.enqueue([], { delayMs: 1_000 });
    const record = (await storage.getJob(handle.jobId))!;
    expect(record.createdAt - Date.now()).toBeGreaterThan(30_000);
    await engine.stop();
  });
});
