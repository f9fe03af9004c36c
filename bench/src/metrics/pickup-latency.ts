import { payload } from '../engines/types.ts';
import { nowMs, percentile } from '../stats.ts';
import type { Metric } from './types.ts';

/** 2. Enqueue → handler start, one job at a time, workers idle and waiting (concurrency 10). */
export const pickupLatency: Metric = {
  key: 'pickup',
  title: '2. Pickup latency (enqueue → handler start)',
  describe: (cfg) =>
    `${cfg.pickupCount} sequential jobs, each enqueued once the previous one started; workers at concurrency 10 in the same process; ms.`,
  columns: [
    { key: 'p50', label: 'p50', unit: 'ms', better: 'lower' },
    { key: 'p95', label: 'p95', unit: 'ms', better: 'lower' },
  ],
  applies: () => true,
  async run(engine, cfg) {
    await engine.reset();
    let started: ((latency: number) => void) | undefined;
    const session = await engine.open({
      concurrency: 10,
      handler: (p) => started?.(nowMs() - p.sentAt),
    });
    try {
      const one = async () => {
        const latency = new Promise<number>((resolve) => {
          started = resolve;
        });
        await session.enqueue(payload());
        return latency;
      };
      for (let i = 0; i < 5; i++) await one();
      const samples: number[] = [];
      const deadline = nowMs() + cfg.sequentialCapMs;
      for (let i = 0; i < cfg.pickupCount && nowMs() < deadline; i++) samples.push(await one());
      return [
        {
          p50: percentile(samples, 50),
          p95: percentile(samples, 95),
          capped: samples.length < cfg.pickupCount ? 1 : 0,
        },
      ];
    } finally {
      await session.close();
    }
  },
};
