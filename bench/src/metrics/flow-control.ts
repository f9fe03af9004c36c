import { drain } from './drain.ts';
import type { Metric } from './types.ts';

/** Keys the jobs are spread over, and how many of one key may run at once. */
const KEYS = 100;
const PER_KEY = 2;

/**
 * 9. Flow control: the drain of section 4 at concurrency 10, unlimited and then with a
 * per-key concurrency limit (2 running per key over 100 keys, counted in the database by every
 * claim), in the same repetition so the ratio compares like with like.
 */
export const flowControl: Metric = {
  key: 'flow',
  title: '9. Flow control: throughput with a per-key concurrency limit',
  describe: (cfg) =>
    `${cfg.throughputJobs.toLocaleString('en')} bulk-enqueued no-op jobs spread over ${KEYS} keys, drained at concurrency 10: unlimited, then registered with concurrency { limit: ${PER_KEY}, key } (each claim counts the running jobs of every key it takes from). Engines without per-key limits are not measured.`,
  columns: [
    { key: 'unlimited', label: 'c=10 unlimited', unit: 'jobs/s', better: 'higher' },
    { key: 'limited', label: `c=10, ${PER_KEY} per key`, unit: 'jobs/s', better: 'higher' },
    { key: 'ratio', label: 'limited / unlimited', unit: '%', better: 'higher' },
  ],
  applies: (engine) => engine.flowControl === true,
  async run(engine, cfg) {
    await engine.reset();
    const unlimited = await drain(engine, cfg.throughputJobs, 10, cfg.drainCapMs, { keys: KEYS });
    await engine.reset();
    const limited = await drain(engine, cfg.throughputJobs, 10, cfg.drainCapMs, {
      keys: KEYS,
      flow: { concurrencyPerKey: PER_KEY },
    });
    return [
      {
        unlimited: unlimited.rate!,
        limited: limited.rate!,
        ratio: (100 * limited.rate!) / unlimited.rate!,
        capped: Math.max(unlimited.capped!, limited.capped!),
      },
    ];
  },
};
