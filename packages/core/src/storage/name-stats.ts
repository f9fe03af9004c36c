import { JOB_STATUSES, type JobStatus, type NameStats } from './records.ts';

/**
 * The jobs of one (name, status) pair as an adapter's aggregate read returns them: how many,
 * and the oldest `runAt` among those that are due and not running (null when none is).
 */
export interface StatusGroup {
  name: string;
  status: JobStatus;
  count: number;
  oldestDueRunAt: number | null;
}

/** Every status at 0. */
export function emptyStatusCounts(): Record<JobStatus, number> {
  return Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
}

/**
 * Folds (name, status) groups into one `NameStats` per name, ordered by name in code-unit
 * order (sorted here rather than by the database, so every adapter orders names the same way
 * whatever its collation). A name may appear in several groups of the same status: they add up.
 */
export function statsFromGroups(groups: Iterable<StatusGroup>): NameStats[] {
  const byName = new Map<string, NameStats>();
  for (const group of groups) {
    let stats = byName.get(group.name);
    if (!stats) {
      stats = { name: group.name, counts: emptyStatusCounts(), oldestDueRunAt: null };
      byName.set(group.name, stats);
    }
    stats.counts[group.status] += group.count;
    if (
      group.oldestDueRunAt !== null &&
      (stats.oldestDueRunAt === null || group.oldestDueRunAt < stats.oldestDueRunAt)
    ) {
      stats.oldestDueRunAt = group.oldestDueRunAt;
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
