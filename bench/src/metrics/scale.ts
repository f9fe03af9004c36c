import { median } from '../stats.ts';
import { drain } from './drain.ts';
import type { Measurement, Metric } from './types.ts';

/** 7. Does a big table of finished jobs slow the queue down? */
export const scale: Metric = {
  key: 'scale',
  title: '7. Scale: throughput with finished jobs in the table',
  describe: (cfg) =>
    `Throughput at concurrency 10 (${cfg.scaleJobs.toLocaleString('en')} jobs) on an empty table, then after inserting ${cfg.scaleFinished.toLocaleString('en')} finished jobs (for graphile-worker, which deletes completed jobs, permanently failed ones) and VACUUM ANALYZE. Fast settings only; jobs/s.`,
  columns: [
    { key: 'empty', label: '0 finished', unit: 'jobs/s', better: 'higher' },
    { key: 'seeded', label: 'seeded', unit: 'jobs/s', better: 'higher' },
    { key: 'ratio', label: 'seeded/empty', unit: '×', better: 'higher' },
  ],
  applies: (engine) => engine.variant === 'fast',
  async run(engine, cfg) {
    const empty: Measurement[] = [];
    for (let i = 0; i < cfg.repetitions; i++) {
      await engine.reset();
      empty.push(await drain(engine, cfg.scaleJobs, 10, cfg.drainCapMs));
    }
    await engine.reset();
    await engine.seedFinished(cfg.scaleFinished);
    const seeded: Measurement[] = [];
    for (let i = 0; i < cfg.repetitions; i++) {
      seeded.push(await drain(engine, cfg.scaleJobs, 10, cfg.drainCapMs));
    }
    await engine.reset();
    const emptyMedian = median(empty.map((m) => m.rate!));
    return empty.map((m, i) => ({
      empty: m.rate!,
      seeded: seeded[i]!.rate!,
      // Each repetition's ratio against the median empty rate, so noise shows in min/median.
      ratio: seeded[i]!.rate! / emptyMedian,
      capped: Math.max(m.capped!, seeded[i]!.capped!),
    }));
  },
};
