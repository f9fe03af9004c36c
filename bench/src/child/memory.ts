import { engineFromArgs } from '../engines/index.ts';
import { payload } from '../engines/types.ts';
import { sleep } from '../stats.ts';

/**
 * The memory metric's process: one session that both enqueues (bulk, 1,000 at a time, at most
 * two batches ahead of the workers) and runs the jobs at the given concurrency. After each checkpoint
 * it forces a GC and records RSS and heap used (MB). Prints one JSON line.
 */
const [key, variant, location, first, second, concurrency, capMs] = process.argv.slice(2);
const deadline = performance.now() + Number(capMs);
const engine = engineFromArgs(key!, variant!, location!);
let done = 0;
const session = await engine.open({
  concurrency: Number(concurrency),
  handler: () => {
    done += 1;
  },
});
const snapshot = async (): Promise<[number, number]> => {
  // Let acks and timers of the last jobs settle, then collect everything collectable.
  await sleep(200);
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  const usage = process.memoryUsage();
  return [usage.rss / 2 ** 20, usage.heapUsed / 2 ** 20];
};
const result: Record<string, number> = {};
let enqueued = 0;
for (const [index, target] of [Number(first), Number(second)].entries()) {
  while (done < target && performance.now() < deadline) {
    if (enqueued < target && enqueued - done < 2000) {
      const batch = Math.min(1000, target - enqueued);
      await session.enqueueBulk(Array.from({ length: batch }, payload));
      enqueued += batch;
    } else {
      await sleep(5);
    }
  }
  const [rss, heap] = await snapshot();
  result[`rss${index + 1}`] = rss;
  result[`heap${index + 1}`] = heap;
  result[`jobs${index + 1}`] = done;
  if (done < target) result.capped = 1;
}
await session.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
