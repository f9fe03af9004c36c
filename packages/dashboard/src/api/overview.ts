import type { CompletionBucket, Reseolio } from 'reseolio';
import type { ApiResponse } from 'reseolio/http';
import type { Alert, FunctionOverview } from '../wire-types.ts';
import { toJobView } from './job-view.ts';

/** The throughput window: the last hour, in 5-minute bars (12 per function). */
export const THROUGHPUT_WINDOW_MS = 3_600_000;
export const THROUGHPUT_BUCKET_MS = 300_000;
/**
 * How long due work may wait with nothing running and nothing finished before the overview
 * says no worker seems to serve the function: one minute, well above a poll interval, so a
 * busy but alive worker is not reported.
 */
export const NO_WORKER_AFTER_MS = 60_000;
/** How many of the newest dead jobs the overview lists. */
const RECENT_FAILURES = 10;

/**
 * `GET api/overview`: counts per function and status, throughput of the last hour from the
 * stored completion times (right after a restart, and across all nodes), the oldest pending
 * age, the ten newest dead jobs, and alerts for stuck work.
 */
export async function overview(engine: Reseolio, stuckAfterMs: number): Promise<ApiResponse> {
  const [stats, completions, failures] = await Promise.all([
    engine.stats(),
    engine.completions({ sinceMs: THROUGHPUT_WINDOW_MS, bucketMs: THROUGHPUT_BUCKET_MS }),
    engine.listJobs({ status: 'dead', limit: RECENT_FAILURES }),
  ]);
  const now = stats.at.getTime();
  const starts = bucketStarts(now);
  const byFunction = groupByFunction(completions, starts[0]!);
  const functions: FunctionOverview[] = stats.functions.map((fn) => {
    const buckets = byFunction.get(fn.name) ?? new Map<number, CompletionBucket>();
    const throughput = starts.map((start) => {
      const bucket = buckets.get(start);
      return {
        bucketStart: new Date(start).toISOString(),
        success: bucket?.success ?? 0,
        dead: bucket?.dead ?? 0,
        cancelled: bucket?.cancelled ?? 0,
      };
    });
    return {
      name: fn.name,
      counts: fn.counts,
      oldestPendingAgeMs: fn.oldestPendingAgeMs,
      lastHour: sum(throughput),
      throughput,
      registeredHere: engine.isRegistered(fn.name),
    };
  });
  return {
    status: 200,
    body: {
      at: stats.at.toISOString(),
      totals: stats.totals,
      functions,
      recentFailures: failures.map(toJobView),
      alerts: alertsFor(functions, completions, now, stuckAfterMs),
      stuckAfterMs,
      bucketMs: THROUGHPUT_BUCKET_MS,
    },
  };
}

/**
 * Two kinds of stuck work:
 * - `no-worker`: due jobs have waited over a minute while none of the function's jobs runs and
 *   none ended in that minute: no worker seems to serve it (none registers it, or all are down);
 * - `stuck`: the oldest due job has waited longer than `stuckAfterMs`: workers are too few or
 *   blocked (concurrency or rate limits).
 */
export function alertsFor(
  functions: FunctionOverview[],
  completions: CompletionBucket[],
  now: number,
  stuckAfterMs: number,
): Alert[] {
  const alerts: Alert[] = [];
  for (const fn of functions) {
    const age = fn.oldestPendingAgeMs;
    if (age === null) continue;
    const recentlyEnded = completions.some(
      (bucket) =>
        bucket.name === fn.name && bucket.bucketStart.getTime() + THROUGHPUT_BUCKET_MS > now - age,
    );
    if (age > NO_WORKER_AFTER_MS && fn.counts.running === 0 && !recentlyEnded) {
      alerts.push({
        kind: 'no-worker',
        function: fn.name,
        message: `${fn.name}: due jobs have waited ${formatAge(age)} with none running and none finished since; is a worker that registers ${fn.name} running?`,
      });
    }
    if (age > stuckAfterMs) {
      alerts.push({
        kind: 'stuck',
        function: fn.name,
        message: `${fn.name}: the oldest due job has waited ${formatAge(age)}, over the ${formatAge(stuckAfterMs)} threshold.`,
      });
    }
  }
  return alerts;
}

/** `1h 5m`, `3m 20s`, `45s`. */
export function formatAge(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

function bucketStarts(now: number): number[] {
  const last = Math.floor(now / THROUGHPUT_BUCKET_MS) * THROUGHPUT_BUCKET_MS;
  const count = THROUGHPUT_WINDOW_MS / THROUGHPUT_BUCKET_MS;
  return Array.from({ length: count }, (_, i) => last - (count - 1 - i) * THROUGHPUT_BUCKET_MS);
}

/**
 * The engine's buckets by function and start. The window (the last hour) rarely starts on a
 * bucket boundary: the partial bucket before the first shown one is added to it, so the hour's
 * totals count every job of the window.
 */
function groupByFunction(
  buckets: CompletionBucket[],
  firstStart: number,
): Map<string, Map<number, CompletionBucket>> {
  const byFunction = new Map<string, Map<number, CompletionBucket>>();
  for (const bucket of buckets) {
    let map = byFunction.get(bucket.name);
    if (map === undefined) {
      map = new Map();
      byFunction.set(bucket.name, map);
    }
    // Buckets are aligned by the engine; align again in case its origin differs from ours.
    const start = Math.max(
      firstStart,
      Math.floor(bucket.bucketStart.getTime() / THROUGHPUT_BUCKET_MS) * THROUGHPUT_BUCKET_MS,
    );
    const seen = map.get(start);
    map.set(
      start,
      seen === undefined
        ? bucket
        : {
            ...seen,
            success: seen.success + bucket.success,
            dead: seen.dead + bucket.dead,
            cancelled: seen.cancelled + bucket.cancelled,
          },
    );
  }
  return byFunction;
}

function sum(throughput: FunctionOverview['throughput']): FunctionOverview['lastHour'] {
  return throughput.reduce(
    (total, bucket) => ({
      success: total.success + bucket.success,
      dead: total.dead + bucket.dead,
      cancelled: total.cancelled + bucket.cancelled,
    }),
    { success: 0, dead: 0, cancelled: 0 },
  );
}
