import { payload } from '../engines/types.ts';
import { nowMs, percentile } from '../stats.ts';
import type { Metric } from './types.ts';

/** 1. Sequential single enqueues by a producer (no workers in the process). */
export const enqueueLatency: Metric = {
  key: 'enqueue',
  title: '1. Enqueue latency',
  describe: (cfg) =>
    `${cfg.enqueueCount} sequential single enqueues from a producer-only session; ms per call.`,
  columns: [
    { key: 'p50', label: 'p50', unit: 'ms', better: 'lower' },
    { key: 'p95', label: 'p95', unit: 'ms', better: 'lower' },
    { key: 'p99', label: 'p99', unit: 'ms', better: 'lower' },
  ],
  applies: () => true,
  async run(engine, cfg) {
    await engine.reset();
    const session = await engine.open({ concurrency: 0 });
    try {
      // Warm-up: connections, prepared statements, JIT.
      for (let i = 0; i < 50; i++) await session.enqueue(payload());
      const samples: number[] = [];
      const deadline = nowMs() + cfg.sequentialCapMs;
      for (let i = 0; i < cfg.enqueueCount && nowMs() < deadline; i++) {
        const started = nowMs();
        await session.enqueue(payload());
        samples.push(nowMs() - started);
      }
      return [
        {
          p50: percentile(samples, 50),
          p95: percentile(samples, 95),
          p99: percentile(samples, 99),
          capped: samples.length < cfg.enqueueCount ? 1 : 0,
        },
      ];
    } finally {
      await session.close();
    }
  },
};
