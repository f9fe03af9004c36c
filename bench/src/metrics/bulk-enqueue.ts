import { payload } from '../engines/types.ts';
import { nowMs } from '../stats.ts';
import type { Metric } from './types.ts';

/** 5. The engine's bulk enqueue API, chunks of 1,000. */
export const bulkEnqueue: Metric = {
  key: 'bulk',
  title: '5. Bulk enqueue rate',
  describe: (cfg) =>
    `${cfg.bulkJobs.toLocaleString('en')} jobs through each engine's bulk API in chunks of 1,000 (Reseolio \`fn.enqueueMany\`, graphile-worker \`add_jobs\`, pg-boss \`insert\`); jobs/s.`,
  columns: [{ key: 'rate', label: 'rate', unit: 'jobs/s', better: 'higher' }],
  applies: () => true,
  async run(engine, cfg) {
    await engine.reset();
    const payloads = Array.from({ length: cfg.bulkJobs }, payload);
    const session = await engine.open({ concurrency: 0 });
    try {
      await session.enqueueBulk(payloads.slice(0, 1000)); // warm-up
      const started = nowMs();
      await session.enqueueBulk(payloads);
      return [{ rate: cfg.bulkJobs / ((nowMs() - started) / 1000) }];
    } finally {
      await session.close();
    }
  },
};
