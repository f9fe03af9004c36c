/** Issue 11: every bad input gets a typed error that says what to do, and nothing is stored. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  describeValue,
  MemoryStorage,
  Reseolio,
  ReseolioValidationError,
  ResultTimeoutError,
  StorageConfigError,
  toJobJSON,
} from '../src/index.ts';
import { toEngineLogger } from '../src/logging/engine-logger.ts';
import { ResultWaiters } from '../src/result-waiters.ts';
import type { StorageAdapter } from '../src/storage/storage.ts';
import { makeEngine } from './helpers.ts';

const MAX_TIME_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The error `promise` rejects with (or `fn` throws), for assertions on its fields. */
async function errorOf(action: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, got none');
}

/** A typed, coded validation error whose message names `option` and includes each of `parts`. */
function expectInvalid(error: Error, option: string, ...parts: string[]): void {
  expect(error).toBeInstanceOf(ReseolioValidationError);
  expect(error).toMatchObject({ code: 'RESEOLIO_INVALID_OPTION' });
  expect(error.message).toContain(`"${option}"`);
  for (const part of parts) expect(error.message).toContain(part);
}

describe('times are bounded: an integer of epoch ms from 1970 to year 9999', () => {
  it('refuses a runAt out of range, fractional, or an invalid Date, and stores nothing', async () => {
    const engine = makeEngine();
    const fn = engine.durable('times:run-at', async () => {});
    const bad: unknown[] = [
      9e15, // beyond what Date can show: stored, then every listing answered 500
      1e20, // beyond PostgreSQL's bigint
      1234.5, // a raw bigint error on PostgreSQL
      -1,
      MAX_TIME_MS + 1,
      new Date(8.64e15), // a valid Date, but in year 275760
      new Date(Number.NaN),
      '2030-01-01',
    ];
    for (const runAt of bad) {
      const error = await errorOf(fn.enqueue([], { runAt: runAt as number }));
      expectInvalid(error, 'runAt', String(MAX_TIME_MS), '9999-12-31T23:59:59.999Z');
    }
    expect((await errorOf(fn({ runAt: 9e15 }))).message).toContain('got 9000000000000000');
    expect(await engine.listJobs()).toEqual([]);
  });

  it('accepts both ends of the range, and such a job can be shown', async () => {
    const engine = makeEngine();
    const fn = engine.durable('times:edges', async () => {});
    const last = await fn.enqueue([], { runAt: new Date(MAX_TIME_MS) });
    await fn.enqueue([], { runAt: 0 });
    expect(toJobJSON(await last.details()).runAt).toBe('9999-12-31T23:59:59.999Z');
    expect((await engine.listJobs()).map(toJobJSON)).toHaveLength(2);
    expect(await last.cancel()).toBe(true);
  });

  it('refuses a delayMs that is fractional, negative, or ends after year 9999', async () => {
    const now = Date.UTC(2030, 0, 1);
    const engine = new Reseolio({ storage: 'memory:' }, { now: () => now });
    const fn = engine.durable('times:delay', async () => {});
    for (const delayMs of [1.5, -1, MAX_TIME_MS + 1, 2 ** 53]) {
      expectInvalid(await errorOf(fn({ delayMs })), 'delayMs', `got ${delayMs}`);
    }
    // In range on its own, but now + delayMs is not.
    const error = await errorOf(fn({ delayMs: MAX_TIME_MS - now + 1 }));
    expectInvalid(error, 'delayMs', `from 0 to ${MAX_TIME_MS - now}`, 'now + delayMs');
    const ok = await fn({ delayMs: MAX_TIME_MS - now });
    expect((await ok.details()).runAt.getTime()).toBe(MAX_TIME_MS);
    expect(await engine.listJobs()).toHaveLength(1);
    await engine.stop();
  });
});

describe('durations are bounded', () => {
  it('refuses timers longer than setTimeout can wait, at registration and per call', async () => {
    const engine = makeEngine();
    for (const key of ['timeoutMs', 'initialDelayMs'] as const) {
      const error = await errorOf(() =>
        engine.durable(`durations:${key}`, async () => {}, { [key]: MAX_TIMER_MS + 1 }),
      );
      expectInvalid(
        error,
        key,
        `from ${key === 'timeoutMs' ? 1 : 0} to ${MAX_TIMER_MS} milliseconds`,
      );
    }
    const fn = engine.durable('durations:call', async () => {});
    expectInvalid(await errorOf(fn({ timeoutMs: 2 ** 31 })), 'timeoutMs', `to ${MAX_TIMER_MS}`);
    expect(await engine.listJobs()).toEqual([]);
  });

  it('caps maxDelayMs at 365 days, so a retry is always a real date', async () => {
    const engine = makeEngine();
    const year = 365 * 24 * 60 * 60 * 1000;
    expect(
      engine.durable('durations:year', async () => {}, { maxDelayMs: year }).options,
    ).toMatchObject({
      maxDelayMs: year,
    });
    const error = await errorOf(() =>
      engine.durable('durations:too-long', async () => {}, { maxDelayMs: Number.MAX_SAFE_INTEGER }),
    );
    expectInvalid(error, 'maxDelayMs', `from 0 to ${year} milliseconds`);
    expectInvalid(
      await errorOf(() => new Reseolio({ defaults: { maxDelayMs: year + 1 } })),
      'maxDelayMs',
    );
  });

  it('refuses result(timeoutMs) above 2147483647 instead of giving up at once', async () => {
    const engine = makeEngine({ workerConcurrency: 0 });
    const handle = await engine.durable('durations:result', async () => 1)();
    // Before, setTimeout overflowed and this rejected at once with ResultTimeoutError.
    const error = await errorOf(handle.result(2 ** 31));
    expect(error).not.toBeInstanceOf(ResultTimeoutError);
    expectInvalid(error, 'timeoutMs', `from 0 to ${MAX_TIMER_MS}`, 'leave it out');
    for (const bad of [-1, 1.5, Number.NaN]) {
      expectInvalid(await errorOf(handle.result(bad)), 'timeoutMs');
    }
  });

  it('refuses stop({ timeoutMs }) above 2147483647 and still stops with a valid one', async () => {
    const engine = makeEngine();
    await engine.start();
    expectInvalid(await errorOf(engine.stop({ timeoutMs: 2 ** 31 })), 'timeoutMs');
    expectInvalid(await errorOf(engine.stop({ timeoutMs: -1 })), 'timeoutMs');
    expect(engine.state).toBe('started');
    await engine.stop({ timeoutMs: MAX_TIMER_MS });
    expect(engine.state).toBe('stopped');
  });

  it('bounds the engine options that are timers', () => {
    for (const key of ['leaseMs', 'pollIntervalMs'] as const) {
      expectInvalid(
        errorOfSync(() => new Reseolio({ storage: 'memory:', [key]: MAX_TIMER_MS + 1 })),
        key,
        `to ${MAX_TIMER_MS} milliseconds`,
      );
    }
  });

  it('polls results at most every 2147483647 ms, never in a 1 ms storm', () => {
    const storage = {
      capabilities: { crossProcessNotify: true, multiProcess: true, leasedEnqueue: true },
      getJob: async () => ({ status: 'running' }),
    } as unknown as StorageAdapter;
    const setInterval = vi.spyOn(globalThis, 'setInterval');
    const waiters = new ResultWaiters(storage, MAX_TIMER_MS, toEngineLogger(console));
    void waiters.wait('a').catch(() => {});
    const delays = setInterval.mock.calls.map((call) => call[1]);
    waiters.rejectAll(new Error('test over'));
    expect(delays).toEqual([MAX_TIMER_MS]);
  });
});

describe('listJobs bounds and filters', () => {
  it('refuses bad pages and filters with the option named', async () => {
    const engine = makeEngine();
    const bad: [Record<string, unknown>, string][] = [
      [{ offset: 1e20 }, 'offset'],
      [{ offset: 1.5 }, 'offset'],
      [{ limit: 0 }, 'limit'],
      [{ limit: 1001 }, 'limit'],
      [{ status: 'done' }, 'status'],
      [{ status: ['dead', 'nope'] }, 'status'],
      [{ name: 'a\u0000b' }, 'name'],
      [{ parentId: '\uD800' }, 'parentId'],
    ];
    for (const [filter, option] of bad) {
      expectInvalid(await errorOf(engine.listJobs(filter)), option);
    }
    expect((await errorOf(engine.listJobs({ statuses: 'dead' } as object))).message).toContain(
      'Unknown listJobs() filter "statuses"',
    );
    expect(await engine.listJobs({ offset: Number.MAX_SAFE_INTEGER })).toEqual([]);
  });
});

describe('idempotency keys mean the same on every storage', () => {
  it('refuses NUL, unpaired surrogates, empty and overlong keys, and stores nothing', async () => {
    const engine = makeEngine();
    const fn = engine.durable('keys:refused', async () => {});
    for (const key of ['\uD800', 'a\uDC00b', '\uDBFF', 'a\u0000b']) {
      const error = await errorOf(fn({ idempotencyKey: key }));
      expectInvalid(error, 'idempotencyKey', 'without NUL or unpaired surrogates');
      expect(error.message).toMatch(/contains (a NUL character|an unpaired surrogate)/);
    }
    for (const key of ['', 'k'.repeat(513), 42]) {
      expectInvalid(
        await errorOf(fn.enqueue([], { idempotencyKey: key as string })),
        'idempotencyKey',
        'at most 512 characters',
      );
    }
    expect(await engine.listJobs()).toEqual([]);
    // A surrogate pair is a real character: accepted, and one key is one job.
    const a = await fn({ idempotencyKey: 'card-💳' });
    const b = await fn({ idempotencyKey: 'card-💳' });
    expect(b.jobId).toBe(a.jobId);
    expect((await fn({ idempotencyKey: 'k'.repeat(512) })).jobId).not.toBe(a.jobId);
  });

  it('shows a 10 KB key shortened, with its length', async () => {
    const engine = makeEngine();
    const fn = engine.durable('keys:long', async () => {});
    const error = await errorOf(fn({ idempotencyKey: `${'x'.repeat(10_240)}` }));
    expect(error.message.length).toBeLessThan(600);
    expect(error.message).toContain('(10240 characters)');
  });
});

describe('function names', () => {
  it('refuses NUL and unpaired surrogates in names and namespace parts, shortened', () => {
    const engine = makeEngine();
    for (const name of ['a\u0000b', 'orders:\uD800', `${'n'.repeat(5000)}\u0000`]) {
      const error = errorOfSync(() => engine.durable(name, async () => {}));
      expect(error).toBeInstanceOf(ReseolioValidationError);
      expect(error).toMatchObject({ code: 'RESEOLIO_INVALID_NAME' });
      expect(error.message.length).toBeLessThan(400);
    }
    for (const part of ['a\u0000', '\uDC00', 'p'.repeat(5000)]) {
      const error = errorOfSync(() => engine.namespace('orders', part));
      expect(error).toMatchObject({ code: 'RESEOLIO_INVALID_NAME' });
      expect(error.message.length).toBeLessThan(400);
    }
    expect(errorOfSync(() => engine.namespace('a\u0000')).message).toContain('"a\\u0000"');
  });

  it('refuses a workerId that storage could not keep as given', () => {
    expectInvalid(
      errorOfSync(() => new Reseolio({ storage: 'memory:', workerId: 'w\u0000' })),
      'workerId',
    );
  });
});

describe('storage given but empty', () => {
  it('is a StorageConfigError saying what to pass, not a silent ./reseolio.db', () => {
    for (const storage of [undefined, null, '', '  ']) {
      const error = errorOfSync(
        () => new Reseolio({ storage } as unknown as ConstructorParameters<typeof Reseolio>[0]),
      );
      expect(error).toBeInstanceOf(StorageConfigError);
      expect(error.message).toContain('unset environment variable');
      expect(error.message).toContain("'sqlite:./jobs.db'");
      expect(error.message).toContain('leave the option out');
    }
  });

  it('an omitted storage still means the SQLite default', () => {
    expect(() => new Reseolio({})).not.toThrow();
    expect(() => new Reseolio()).not.toThrow();
  });
});

describe('URL schemes are case-insensitive', () => {
  it('routes MEMORY: and SQLITE: like their lowercase forms', async () => {
    // A provider for `sqlite` stands in for @reseolio/storage-sqlite, which core does not
    // depend on (integration-tests run the real one): the routing is core's.
    const urls: string[] = [];
    const sqlite = {
      schemes: ['sqlite'],
      fromUrl: (url: string) => {
        urls.push(url);
        return new MemoryStorage();
      },
    };
    for (const storage of ['MEMORY:', 'SQLITE::memory:', 'SQLite://:memory:']) {
      const engine = new Reseolio({ storage, storageProviders: [sqlite] });
      await engine.init();
      await engine.stop();
    }
    expect(urls).toEqual(['SQLITE::memory:', 'SQLite://:memory:']);
  });

  it('echoes an unknown URL shortened and without its password', async () => {
    const leaked = await errorOf(
      new Reseolio({ storage: '//admin:hunter2@db.internal/app' }).init(),
    );
    expect(leaked).toBeInstanceOf(StorageConfigError);
    expect(leaked.message).not.toContain('hunter2');
    expect(leaked.message).toContain('admin:***@db.internal');
    const scheme = await errorOf(new Reseolio({ storage: `${'x'.repeat(5000)}://a` }).init());
    expect(scheme.message.length).toBeLessThan(400);
  });
});

describe('an object argument with a call-option key', () => {
  it('says how to pass it with fn.enqueue([arg], options), and stores nothing', async () => {
    const engine = makeEngine();
    const fetchPage = engine.durable(
      'calls:fetch',
      async (request: { url: string; timeoutMs: number }) => request.url,
    );
    const error = await errorOf(fetchPage({ url: 'https://example.com', timeoutMs: 5000 }));
    expectInvalid(error, 'url', 'fn.enqueue([{ url, timeoutMs }])');
    expect(error.message).toContain("fn.enqueue([{ url, timeoutMs }], { idempotencyKey: '…' })");
    expect(error.message).toContain('read as call options because it has "timeoutMs"');
    expect(await engine.listJobs()).toEqual([]);

    await engine.start();
    const handle = await fetchPage.enqueue([{ url: 'https://example.com', timeoutMs: 5000 }]);
    expect(await handle.result(10_000)).toBe('https://example.com');
  });

  it('numbers the arguments before the object in the suggested form', async () => {
    const engine = makeEngine();
    const fn = engine.durable(
      'calls:two',
      async (_id: string, _o: { delayMs: number; x: 1 }) => {},
    );
    const error = await errorOf(fn('a', { delayMs: 1, x: 1 }));
    expect(error.message).toContain('fn.enqueue([arg1, { delayMs, x }])');
  });
});

describe('an explicit undefined is the same as a left-out option', () => {
  it('in engine, registration, call, list and stop options', async () => {
    const engine = makeEngine({ leaseMs: undefined, workerId: undefined, defaults: undefined });
    const fn = engine.durable('undefined:fn', async (x: string) => x, {
      timeoutMs: undefined,
      backoff: undefined,
    });
    expect(fn.options).toMatchObject({ timeoutMs: 30_000, backoff: 'exponential' });
    const handle = await fn('a', {
      idempotencyKey: undefined,
      delayMs: undefined,
      runAt: undefined,
    });
    expect(await handle.details()).toMatchObject({ args: ['a'], idempotencyKey: null });
    const listed = await engine.listJobs({
      status: undefined,
      name: undefined,
      limit: undefined,
      offset: undefined,
    });
    expect(listed).toHaveLength(1);
    await engine.stop({ timeoutMs: undefined });
  });
});

describe('describeValue', () => {
  it('quotes and shortens strings, and shows objects by kind only', () => {
    expect(describeValue('abc')).toBe('"abc"');
    expect(describeValue('a\u0000\uD800')).toBe('"a\\u0000\\ud800"');
    expect(describeValue('x'.repeat(150))).toBe(`"${'x'.repeat(100)}…" (150 characters)`);
    expect(describeValue(9e15)).toBe('9000000000000000');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(10n)).toBe('10n');
    expect(describeValue(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(describeValue(new Date(Number.NaN))).toBe('Invalid Date');
    expect(describeValue({ secret: 'x' })).toBe('an object');
    expect(describeValue([1, 2])).toBe('an array of 2 items');
    expect(describeValue(new MemoryStorage())).toBe('a MemoryStorage');
    expect(describeValue(() => {})).toBe('a function');
  });
});

function errorOfSync(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, got none');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('storage providers', () => {
  /** A provider whose adapters are MemoryStorages that record being closed. */
  function provider(schemes: string[]) {
    const made: { url: string; closed: boolean }[] = [];
    return {
      made,
      schemes,
      fromUrl(url: string) {
        const entry = { url, closed: false };
        made.push(entry);
        const storage = new MemoryStorage();
        const close = storage.close.bind(storage);
        storage.close = async () => {
          entry.closed = true;
          await close();
        };
        return storage;
      },
    };
  }

  it('a third-party scheme makes its adapter from the URL, owned by the engine', async () => {
    const mysql = provider(['mysql']);
    const engine = new Reseolio({ storage: 'MySQL://db/app', storageProviders: [mysql] });
    const hello = engine.durable('providers:hello', async (name: string) => `hello ${name}`);
    await engine.start();
    expect(await (await hello('mysql')).result(5_000)).toBe('hello mysql');
    await engine.stop();
    expect(mysql.made).toEqual([{ url: 'MySQL://db/app', closed: true }]);
  });

  it('names the option in the error for a scheme nobody handles', async () => {
    const error = await errorOf(
      new Reseolio({ storage: 'redis://x', storageProviders: [provider(['mysql'])] }).init(),
    );
    expect(error).toBeInstanceOf(StorageConfigError);
    expect(error.message).toMatch(/Unknown storage URL scheme "redis:"/);
    expect(error.message).toContain('storageProviders');
  });

  it('refuses providers that are not { schemes, fromUrl } with lowercase schemes', () => {
    for (const storageProviders of [
      {},
      [{ schemes: ['mysql'] }],
      [{ schemes: [], fromUrl() {} }],
      [{ schemes: ['MySQL'], fromUrl() {} }],
      [{ schemes: ['mysql:'], fromUrl() {} }],
      [null],
    ]) {
      expectInvalid(
        errorOfSync(() => new Reseolio({ storage: 'memory:', storageProviders } as object)),
        'storageProviders',
      );
    }
  });

  it('checks the adapter a provider makes like one passed in', async () => {
    const broken = { schemes: ['broken'], fromUrl: () => ({ kind: 'broken' }) as never };
    const error = await errorOf(
      new Reseolio({ storage: 'broken:', storageProviders: [broken] }).init(),
    );
    expect(error).toBeInstanceOf(StorageConfigError);
    expect(error.message).toMatch(/not a complete storage adapter \(missing init, close/);
  });
});

describe('storage URL schemes that name Object.prototype members', () => {
  it('are unknown schemes, not adapter packages', async () => {
    for (const storage of ['constructor://x', 'toString:', '__proto__:']) {
      const error = await errorOf(new Reseolio({ storage }).init());
      expect(error).toBeInstanceOf(StorageConfigError);
      expect(error.message).toMatch(/^Unknown storage URL/);
    }
  });
});
