import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Measurement, Metric } from './types.ts';

const CHILD = fileURLToPath(new URL('../child/memory.js', import.meta.url));

/** 8. Memory of one long-lived process that enqueues and runs many jobs. */
export const memory: Metric = {
  key: 'memory',
  title: '8. Memory after many jobs in one process',
  describe: (cfg) =>
    `A fresh process (--expose-gc) enqueues in batches of 1,000 and runs them at the engine's best concurrency; RSS and V8 heap used after a forced GC once ${cfg.memoryCheckpoints[0].toLocaleString('en')} and ${cfg.memoryCheckpoints[1].toLocaleString('en')} jobs are done. Fast settings only; MB. A process that could not reach a checkpoint within ${cfg.memoryCapMs / 1000} s reports at the count it reached (†).`,
  columns: [
    { key: 'rss1', label: `RSS @1`, unit: 'MB', better: 'lower' },
    { key: 'heap1', label: `heap @1`, unit: 'MB', better: 'lower' },
    { key: 'rss2', label: `RSS @2`, unit: 'MB', better: 'lower' },
    { key: 'heap2', label: `heap @2`, unit: 'MB', better: 'lower' },
    { key: 'heapGrowth', label: 'heap growth', unit: 'MB', better: 'lower' },
    { key: 'jobs2', label: 'jobs done @2', unit: 'jobs', better: 'higher' },
  ],
  applies: (engine) => engine.variant === 'fast' && engine.fullFeatured,
  async run(engine, cfg) {
    await engine.reset();
    const m = await new Promise<Measurement>((resolve, reject) => {
      execFile(
        process.execPath,
        [
          '--expose-gc',
          CHILD,
          ...engine.childArgs,
          ...cfg.memoryCheckpoints.map(String),
          String(engine.bestConcurrency),
          String(cfg.memoryCapMs),
        ],
        { maxBuffer: 16 << 20, timeout: 30 * 60_000 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`memory child failed: ${stderr || error.message}`));
          else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Measurement);
        },
      );
    });
    await engine.reset();
    return [{ ...m, heapGrowth: m.heap2! - m.heap1! }];
  },
};
