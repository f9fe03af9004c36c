import { describe, expect, it } from 'vitest';
import {
  MemoryStorage,
  type Reseolio,
  ReseolioStateError,
  ReseolioValidationError,
} from '../src/index.ts';
import { makeEngine, waitFor } from './helpers.ts';

/** Resolves the returned promise's `release()` callers one by one, to hold handlers open. */
function gate() {
  const waiting: (() => void)[] = [];
  return {
    wait: () => new Promise<void>((resolve) => waiting.push(resolve)),
    get waiting() {
      return waiting.length;
    },
    releaseAll: () => {
      for (const release of waiting.splice(0)) release();
    },
  };
}

/** The largest number of intervals open at once, per group. */
function maxOverlap(records: readonly { key: string; start: number; end: number }[]) {
  const byKey = new Map<string, { at: number; delta: number }[]>();
  for (const { key, start, end } of records) {
    const events = byKey.get(key) ?? [];
    events.push({ at: start, delta: 1 }, { at: end, delta: -1 });
    byKey.set(key, events);
  }
  const result: Record<string, number> = {};
  for (const [key, events] of byKey) {
    // Ends before starts at the same instant: a slot freed and taken at once is not overlap.
    events.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let open = 0;
    let max = 0;
    for (const { delta } of events) {
      open += delta;
      max = Math.max(max, open);
    }
    result[key] = max;
  }
  return result;
}

describe('priority', () => {
  it('with a backlog, jobs of higher priority enqueued later start first', async () => {
    const storage = new MemoryStorage();
    const producer = makeEngine({ storage, workerConcurrency: 0 });
    const started: string[] = [];
    const register = (engine: Reseolio) =>
      engine.durable('prio:work', async (label: string) => {
        started.push(label);
      });
    const enqueue = register(producer);
    for (let i = 0; i < 5; i++) await enqueue(`low-${i}`);
    await enqueue('urgent', { priority: 10 });
    await enqueue('high', { priority: 5 });
    await enqueue('negative', { priority: -1 });

    const worker = makeEngine({ storage, workerConcurrency: 1 });
    register(worker);
    await worker.start();
    await waitFor(() => started.length === 8);
    expect(started).toEqual([
      'urgent',
      'high',
      'low-0',
      'low-1',
      'low-2',
      'low-3',
      'low-4',
      'negative',
    ]);
  });

  it('the registration sets a default priority that a call overrides; details show it', async () => {
    const engine = makeEngine();
    const fn = engine.durable('prio:defaults', async () => 1, { priority: 3 });
    const a = await fn();
    const b = await fn({ priority: -7 });
    expect((await a.details()).priority).toBe(3);
    expect((await b.details()).priority).toBe(-7);
  });
});

describe('enqueue by name', () => {
  it('a process that registers nothing starts jobs that a worker runs, with the defaults and the call options', async () => {
    const storage = new MemoryStorage();
    const web = makeEngine({ storage, workerConcurrency: 0 });
    const worker = makeEngine({ storage });
    worker.durable('orders:ship', async (orderId: string, express: boolean) =>
      express ? `shipped ${orderId} express` : `shipped ${orderId}`,
    );
    await worker.start();
    const handle = await web.enqueue<string>('orders:ship', ['o-1', true], {
      priority: 2,
      concurrencyKey: 'warehouse-7',
      idempotencyKey: 'ship-o-1',
    });
    expect(await handle.result(10_000)).toBe('shipped o-1 express');
    const details = await handle.details();
    expect(details).toMatchObject({
      name: 'orders:ship',
      priority: 2,
      concurrencyKey: 'warehouse-7',
      rateLimitKey: null,
      idempotencyKey: 'ship-o-1',
      maxAttempts: 3,
    });
    // The same key is the same job, as for a registered function's call.
    expect(
      (await web.enqueue('orders:ship', ['o-1', true], { idempotencyKey: 'ship-o-1' })).jobId,
    ).toBe(handle.jobId);
    expect(handle.jobId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('in a process that registered the name, the registration options apply', async () => {
    const engine = makeEngine({ workerConcurrency: 0 });
    engine.durable('named:registered', async (customer: string) => customer, {
      priority: 4,
      maxAttempts: 7,
      concurrency: { limit: 1, key: (customer) => `customer:${customer}` },
    });
    const details = await (await engine.enqueue('named:registered', ['c-9'])).details();
    expect(details).toMatchObject({ priority: 4, maxAttempts: 7, concurrencyKey: 'customer:c-9' });
  });

  it('refuses a bad name, arguments that are not an array, and bad options, storing nothing', async () => {
    const engine = makeEngine({ workerConcurrency: 0 });
    await expect(engine.enqueue('', [])).rejects.toBeInstanceOf(ReseolioValidationError);
    await expect(engine.enqueue('x', 'o-1' as never)).rejects.toThrow(/arguments as an array/);
    await expect(engine.enqueue('x', [], { priority: 1.5 })).rejects.toThrow(/priority/);
    await expect(engine.enqueue('x', [], { concurrencyKey: '' })).rejects.toThrow(/concurrencyKey/);
    await expect(engine.enqueue('x', [], { bogus: 1 } as never)).rejects.toThrow(/bogus/);
    expect(await engine.listJobs()).toEqual([]);
  });
});

describe('concurrency', () => {
  it('at most limit jobs of a key run at once, keys do not hold each other back, and every job finishes', async () => {
    const engine = makeEngine({ workerConcurrency: 10 });
    const records: { key: string; start: number; end: number }[] = [];
    let clock = 0;
    const fn = engine.durable(
      'limit:per-key',
      async (customer: string, _n: number) => {
        const start = ++clock;
        // Yield a few turns so jobs of one key would overlap if the limit let them.
        for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
        records.push({ key: customer, start, end: ++clock });
      },
      { concurrency: { limit: 2, key: (customer) => customer } },
    );
    await engine.start();
    const handles = [];
    for (let n = 0; n < 20; n++) {
      for (const customer of ['a', 'b', 'c']) handles.push(await fn(customer, n));
    }
    await Promise.all(handles.map((h) => h.result(30_000)));
    expect(records).toHaveLength(60);
    expect(maxOverlap(records)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it('a full key never delays another key: its jobs wait while the others run', async () => {
    const engine = makeEngine({ workerConcurrency: 10 });
    const held = gate();
    const ran: string[] = [];
    const fn = engine.durable(
      'limit:hol',
      async (customer: string) => {
        if (customer === 'busy') await held.wait();
        ran.push(customer);
      },
      { concurrency: { limit: 1, key: (customer) => customer } },
    );
    await engine.start();
    const busy = [await fn('busy'), await fn('busy'), await fn('busy')];
    await waitFor(() => held.waiting === 1);
    const others = await Promise.all(['x', 'y', 'z'].map((c) => fn(c)));
    await Promise.all(others.map((h) => h.result(10_000)));
    expect(held.waiting).toBe(1);
    expect((await busy[1]!.details()).status).toBe('pending');
    held.releaseAll();
    await waitFor(() => held.waiting === 1); // the second busy job started once the first ended
    held.releaseAll();
    await waitFor(() => held.waiting === 1);
    held.releaseAll();
    await Promise.all(busy.map((h) => h.result(10_000)));
  });

  it('a number limits the whole function; the call concurrencyKey overrides the key function', async () => {
    const engine = makeEngine({ workerConcurrency: 0 });
    const whole = engine.durable('limit:whole', async () => 1, { concurrency: 3 });
    const keyed = engine.durable('limit:keyed', async (id: string) => id, {
      concurrency: { limit: 1, key: (id) => `k-${id}` },
    });
    expect((await (await whole()).details()).concurrencyKey).toBeNull();
    expect((await (await keyed('1')).details()).concurrencyKey).toBe('k-1');
    expect((await (await keyed('1', { concurrencyKey: 'other' })).details()).concurrencyKey).toBe(
      'other',
    );
  });
});

describe('rate limits', () => {
  it('no window has more than limit starts; jobs over it start when the window allows, without polling', async () => {
    // The poll interval is far longer than the test: only the claim's announcement of when
    // the window frees can wake the worker.
    const engine = makeEngine({ workerConcurrency: 10, pollIntervalMs: 600_000 });
    const starts: number[] = [];
    const periodMs = 200;
    const fn = engine.durable(
      'rate:window',
      async () => {
        starts.push(Date.now());
      },
      { rateLimit: { limit: 4, periodMs } },
    );
    await engine.start();
    const handles = await fn.enqueueMany(Array.from({ length: 12 }, () => []));
    await Promise.all(handles.map((h) => h.result(30_000)));
    expect(starts).toHaveLength(12);
    // Starts as the claims stamped them (`startedAt`): a handler runs a moment after its claim,
    // and on a busy machine that moment varies, so handler times could bunch up.
    const claimed = await Promise.all(handles.map(async (h) => (await h.details()).startedAt!));
    const times = claimed.map((date) => date.getTime());
    for (const start of times) {
      expect(times.filter((t) => t >= start && t < start + periodMs).length).toBeLessThanOrEqual(4);
    }
  });
});

describe('flow options are checked before anything is stored', () => {
  it.each([
    [{ priority: 2 ** 31 }, /priority/],
    [{ priority: '1' }, /priority/],
    [{ concurrency: 0 }, /concurrency/],
    [{ concurrency: 1.5 }, /concurrency/],
    [{ concurrency: { limit: 2, key: 'customerId' } }, /concurrency.key/],
    [{ concurrency: { limit: 2, keys: () => 'x' } }, /keys/],
    [{ concurrency: null }, /concurrency/],
    [{ rateLimit: { limit: 5 } }, /periodMs/],
    [{ rateLimit: { limit: 0, periodMs: 1000 } }, /rateLimit.limit/],
    [{ rateLimit: { limit: 5, periodMs: 0 } }, /periodMs/],
    [{ rateLimit: 5 }, /rateLimit/],
  ])('durable() refuses %j', (options, message) => {
    const engine = makeEngine();
    expect(() => engine.durable('bad:options', async () => 1, options as never)).toThrow(message);
    expect(engine.isRegistered('bad:options')).toBe(false);
  });

  it('a key function that throws or returns no storable string refuses the call', async () => {
    const engine = makeEngine({ workerConcurrency: 0 });
    const throws = engine.durable('key:throws', async (_x: number) => 1, {
      concurrency: {
        limit: 1,
        key: () => {
          throw new Error('no customer');
        },
      },
    });
    const number = engine.durable('key:number', async (x: number) => x, {
      rateLimit: { limit: 1, periodMs: 1000, key: (x) => x as never },
    });
    const nul = engine.durable('key:nul', async () => 1, {
      concurrency: { limit: 1, key: () => 'a\u0000b' },
    });
    await expect(throws(1)).rejects.toThrow(
      /concurrency.key function of "key:throws" threw.*no customer/,
    );
    await expect(number(42)).rejects.toThrow(/String\(customerId\)/);
    await expect(nul()).rejects.toThrow(/NUL/);
    await expect(number.enqueueMany([[1], [2]])).rejects.toBeInstanceOf(ReseolioValidationError);
    expect(await engine.listJobs()).toEqual([]);
  });

  it('a worker refuses to start with limits its storage adapter cannot enforce', async () => {
    const memory = new MemoryStorage();
    const limited = Object.create(memory, {
      capabilities: { value: { ...memory.capabilities, flowControl: false } },
    });
    for (const key of Object.getOwnPropertyNames(MemoryStorage.prototype)) {
      if (key !== 'constructor' && key !== 'capabilities') {
        const method = (memory as unknown as Record<string, unknown>)[key];
        if (typeof method === 'function') limited[key] = method.bind(memory);
      }
    }
    const engine = makeEngine({ storage: limited });
    engine.durable('no:flow', async () => 1, { concurrency: 1 });
    await expect(engine.start()).rejects.toBeInstanceOf(ReseolioStateError);
    await expect(engine.start()).rejects.toThrow(/capabilities.flowControl is false/);
  });
});
