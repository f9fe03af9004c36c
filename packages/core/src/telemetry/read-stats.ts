import { JOB_STATUSES, type JobStatus, type NameStats } from '../storage/records.ts';
import type { FunctionStats, ReseolioStats } from './stats.ts';

/** `reseolio.stats()` from storage's aggregate read at `now` (epoch ms, the database's clock). */
export function toReseolioStats(rows: readonly NameStats[], now: number): ReseolioStats {
  const totals = zeroCounts();
  const functions: FunctionStats[] = rows.map((row) => {
    const counts = zeroCounts();
    for (const status of JOB_STATUSES) {
      const count = row.counts[status] ?? 0;
      counts[status] = count;
      totals[status] += count;
    }
    return {
      name: row.name,
      counts,
      oldestPendingAgeMs:
        row.oldestDueRunAt === null ? null : Math.max(0, now - row.oldestDueRunAt),
    };
  });
  return { at: new Date(now), functions, totals };
}

function zeroCounts(): Record<JobStatus, number> {
  const counts = {} as Record<JobStatus, number>;
  for (const status of JOB_STATUSES) counts[status] = 0;
  return counts;
}
