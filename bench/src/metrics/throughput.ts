import { drain } from './drain.ts';
import type { Metric } from './types.ts';

/** 4. Throughput of a pre-filled queue of no-op jobs, at concurrency 10 and at the best setting. */
export const throughput: Metric = {
  key: 'throughput',
  title: '4. Throughput (no-op jobs drained)',
  describe: (cfg) =>
    `${cfg.throughputJobs.toLocaleString('en')} bulk-enqueued no-op jobs, then workers started; jobs/s from the first handler start until all are finished in the database. "best" uses the engine's best concurrency (see settings).`,
  columns: [
    { key: 'c10', label: 'c=10', unit: 'jobs/s', better: 'higher' },
    { key: 'best', label: 'best', unit: 'jobs/s', better: 'higher' },
  ],
  applies: () => true,
  async run(engine, cfg) {
    await engine.reset();
    const c10 = await drain(engine, cfg.throughputJobs, 10, cfg.drainCapMs);
    await engine.reset();
    const best = await drain(engine, cfg.throughputJobs, engine.bestConcurrency, cfg.drainCapMs);
    return [{ c10: c10.rate!, best: best.rate!, capped: Math.max(c10.capped!, best.capped!) }];
  },
};
