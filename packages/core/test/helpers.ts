import { afterEach } from 'vitest';
import { Reseolio, type ReseolioOptions } from '../src/index.ts';
import type { NewJob } from '../src/storage/records.ts';

const engines: Reseolio[] = [];

/** An engine on fresh in-memory storage with fast retries; stopped after each test. */
export function makeEngine(options: ReseolioOptions = {}): Reseolio {
  const engine = new Reseolio({
    storage: 'memory:',
    pollIntervalMs: 50,
    defaults: { initialDelayMs: 5, jitter: 0 },
    ...options,
  });
  engines.push(engine);
  return engine;
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop({ timeoutMs: 100 })));
});

export { waitFor } from '@reseolio/test-utils';

/** A job to insert straight into storage (as another process would), due at `at`. */
export function newJob(
  fields: Pick<NewJob, 'id' | 'name'> & Partial<NewJob>,
  at = Date.now(),
): NewJob {
  return {
    args: '[]',
    policy: '[]',
    maxAttempts: 3,
    idempotencyKey: null,
    parentId: null,
    scheduleId: null,
    traceContext: null,
    priority: 0,
    concurrencyKey: null,
    rateLimitKey: null,
    createdAt: at,
    runAt: at,
    ...fields,
  };
}
