import { afterEach } from 'vitest';
import { Reseolio, type ReseolioOptions } from '../src/index.ts';

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
