import { engineFromArgs } from '../engines/index.ts';
import { payload } from '../engines/types.ts';
import { nowMs } from '../stats.ts';

/**
 * The second process of the result-latency metric: a producer-only session that enqueues one
 * job at a time and waits for its result, while the parent process runs the workers.
 * Prints the latencies (ms) as one JSON line.
 */
const [key, variant, location, count, capMs] = process.argv.slice(2);
const engine = engineFromArgs(key!, variant!, location!);
const session = await engine.open({ concurrency: 0 });
for (let i = 0; i < 2; i++) await session.awaitResult(await session.enqueue(payload()));
const samples: number[] = [];
const deadline = nowMs() + Number(capMs);
for (let i = 0; i < Number(count) && nowMs() < deadline; i++) {
  const started = nowMs();
  await session.awaitResult(await session.enqueue(payload()));
  samples.push(nowMs() - started);
}
await session.close();
process.stdout.write(`${JSON.stringify(samples)}\n`);
process.exit(0);
