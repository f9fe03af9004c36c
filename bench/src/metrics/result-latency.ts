import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { payload } from '../engines/types.ts';
import { nowMs, percentile } from '../stats.ts';
import type { Measurement, Metric } from './types.ts';

const CHILD = fileURLToPath(new URL('../child/remote-result.js', import.meta.url));

/** 3. Enqueue → the caller's result resolved, in the workers' process and from a second one. */
export const resultLatency: Metric = {
  key: 'result',
  title: '3. Result latency (enqueue → result() resolved)',
  describe: (cfg) =>
    `${cfg.resultCount} sequential jobs, workers at concurrency 10 in the main process; "local": the caller is that process, "remote": a second process that only enqueues. graphile-worker and pg-boss have no awaitable result, so the harness polls their job table every 5 ms. The raw-SQL floor awaits by LISTEN on ids its workers NOTIFY with the done UPDATE: insert, claim and done are its three round trips, as Reseolio's remote path; ms.`,
  columns: [
    { key: 'localP50', label: 'local p50', unit: 'ms', better: 'lower' },
    { key: 'localP95', label: 'local p95', unit: 'ms', better: 'lower' },
    { key: 'remoteP50', label: 'remote p50', unit: 'ms', better: 'lower' },
    { key: 'remoteP95', label: 'remote p95', unit: 'ms', better: 'lower' },
  ],
  // The floor too: its NOTIFY-based await is the limit for the remote path.
  applies: (engine) => engine.fullFeatured || engine.key === 'raw-sql',
  async run(engine, cfg) {
    await engine.reset();
    const session = await engine.open({ concurrency: 10, announceDone: true });
    try {
      const local: number[] = [];
      for (let i = 0; i < 2; i++) await session.awaitResult(await session.enqueue(payload()));
      const deadline = nowMs() + cfg.sequentialCapMs;
      for (let i = 0; i < cfg.resultCount && nowMs() < deadline; i++) {
        const started = nowMs();
        await session.awaitResult(await session.enqueue(payload()));
        local.push(nowMs() - started);
      }
      const remote = await runRemote(engine.childArgs, cfg.resultCount, cfg.sequentialCapMs);
      const m: Measurement = {
        localP50: percentile(local, 50),
        localP95: percentile(local, 95),
        remoteP50: percentile(remote, 50),
        remoteP95: percentile(remote, 95),
        capped: local.length < cfg.resultCount || remote.length < cfg.resultCount ? 1 : 0,
      };
      return [m];
    } finally {
      await session.close();
    }
  },
};

function runRemote(args: string[], count: number, capMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CHILD, ...args, String(count), String(capMs)],
      { maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`remote result child failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as number[]);
      },
    );
  });
}
