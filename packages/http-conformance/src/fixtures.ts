import { freePort } from '@reseolio/test-utils';
import {
  MemoryStorage,
  Reseolio,
  type StorageAdapter,
  StorageError,
  waitForSignal,
} from 'reseolio';
import { onTestFinished } from 'vitest';
import type { BootApp, BootedApp, BootOptions, LogRecord } from './harness.ts';

/** Headers of a caller that `adminOnly` lets in. */
export const ADMIN = { authorization: 'Bearer admin' };

/**
 * Lets `Bearer admin` in, refuses other credentials (403), and answers 401 for none by
 * throwing an error with `status: 401`, as `http-errors` and Nest's exceptions do.
 */
export const adminOnly: BootOptions['routes'] = {
  authorize: (request: { headers: Record<string, string | undefined> }) => {
    const header = request.headers.authorization;
    if (header === undefined) throw Object.assign(new Error('no credentials'), { status: 401 });
    return header === ADMIN.authorization;
  },
};

/** What a test talks to: the app's base URL, the engine, its durable functions, the logs. */
export type Served = Awaited<ReturnType<typeof serve>>;

/**
 * Makes an engine with a few durable functions, boots the framework's app on a free port
 * with the job routes, and closes both when the test ends.
 */
export async function serve(
  boot: BootApp,
  routes: BootOptions['routes'],
  {
    prefix = '/jobs',
    schedulePrefix = '/schedules',
    storage = 'memory:',
    metrics,
    dashboard,
  }: {
    prefix?: string;
    schedulePrefix?: string;
    storage?: StorageAdapter | string;
    metrics?: BootOptions['metrics'];
    dashboard?: BootOptions['dashboard'];
  } = {},
) {
  const engine = new Reseolio({
    storage,
    pollIntervalMs: 50,
    defaults: { initialDelayMs: 5, jitter: 0 },
    // `waiter` suspends (status waiting) 50 ms into its wait for a signal.
    suspendAfterMs: 50,
  });
  let app: BootedApp | undefined;
  // One hook, in this order: the app first (it may stop a borrowed engine itself), then the engine.
  onTestFinished(async () => {
    await app?.close();
    await engine.stop({ timeoutMs: 100 });
  });
  const hold = gate();
  const echo = engine.durable('echo', async (value: unknown) => value);
  const held = engine.durable('held', async () => {
    await hold.promise;
    return 'released';
  });
  const attempts = { failing: 0 };
  const failing = engine.durable(
    'failing',
    async () => {
      attempts.failing += 1;
      throw Object.assign(new Error('card declined'), { code: 'DECLINED' });
    },
    { maxAttempts: 1 },
  );
  /** Waits for a `payment-confirmed` signal and returns its payload. */
  const waiter = engine.durable('waiter', async (orderId: string) => {
    const payment = await waitForSignal('payment-confirmed');
    return { orderId, payment };
  });
  const port = await freePort();
  app = await boot({ engine, port, prefix, schedulePrefix, routes, metrics, dashboard });
  const base = `http://127.0.0.1:${port}`;
  const call = (method: string, path: string, headers: Record<string, string> = {}) =>
    request(base, method, path, headers);
  /** `call` with a body: an object is sent as JSON, a string as it is (JSON content type). */
  const send = (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ) => request(base, method, path, headers, body);
  return { engine, base, call, send, logs: app.logs, echo, held, hold, failing, attempts, waiter };
}

/** `fetch` that returns the status and parsed JSON body (or the text when not JSON). */
export async function request(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  sent?: unknown,
): Promise<{ status: number; body: any }> {
  const init: RequestInit = { method, headers };
  if (sent !== undefined) {
    init.body = typeof sent === 'string' ? sent : JSON.stringify(sent);
    init.headers = { 'content-type': 'application/json', ...headers };
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body };
}

/** The log records at `level` whose text contains every one of `parts`. */
export function logged(logs: LogRecord[], level: LogRecord['level'], ...parts: string[]) {
  return logs.filter(
    (log) => log.level === level && parts.every((part) => log.text.includes(part)),
  );
}

/** A promise with its resolver, to hold a job open until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** In-memory storage whose job and schedule reads fail the way a broken database does. */
export class FailingStorage extends MemoryStorage {
  readonly failure = new StorageError(
    'SQLite storage "/srv/secret/jobs.db": getJob failed with SQLITE_IOERR_READ: disk I/O error.',
    {
      operation: 'getJob',
      driverCode: 'SQLITE_IOERR_READ',
      cause: Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_READ' }),
    },
  );

  override async getJob(): Promise<never> {
    throw this.failure;
  }

  override async listJobs(): Promise<never> {
    throw this.failure;
  }

  override async getSchedule(): Promise<never> {
    throw this.failure;
  }

  override async listSchedules(): Promise<never> {
    throw this.failure;
  }

  override async stats(): Promise<never> {
    throw this.failure;
  }

  override async updateSchedule(): Promise<never> {
    throw this.failure;
  }
}

/** A job id that exists nowhere. */
export const UNKNOWN_ID = '0190c0de-0000-7000-8000-000000000001';

/** Methods and paths under the default prefix that no job route serves: the app's to answer. */
export const UNSERVED_UNDER_PREFIX: readonly (readonly [string, string])[] = [
  ['DELETE', '/jobs/abc'],
  ['GET', '/jobs/abc/retry'],
  ['POST', '/jobs/abc/result'],
  ['GET', '/jobs/abc/other'],
  ['GET', '/jobs/abc/result/extra'],
];

/** Methods and paths under the default schedule prefix that no schedule route serves. */
export const UNSERVED_UNDER_SCHEDULE_PREFIX: readonly (readonly [string, string])[] = [
  ['DELETE', '/schedules/abc'],
  ['POST', '/schedules/abc'],
  ['GET', '/schedules/abc/pause'],
  ['GET', '/schedules/abc/trigger'],
  ['POST', '/schedules/abc/retry'],
  ['POST', '/schedules/abc/trigger/extra'],
];
