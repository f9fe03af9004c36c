import { JOB_STATUSES, type JobCountFilter, type JobStatus } from './storage/records.ts';
import type { StorageAdapter } from './storage/storage.ts';
import type { BulkChangeResult } from './types.ts';

/** Jobs read per page of a bulk change. */
export const BULK_PAGE_SIZE = 500;
/** Changes in flight at once within a page: bounded, so a bulk change cannot flood the pool. */
const BULK_PARALLELISM = 8;

/**
 * `retryJobs()` / `cancelJobs()`: walks the jobs that match `filter` in a status of `applies`,
 * newest first, a page at a time through the keyset cursor (`before` = the last id seen), and
 * calls `change` on each, the single-job action with its usual semantics and events. The
 * cursor, unlike an offset, skips nothing when the changed jobs leave the filter (a retried
 * job is no longer `dead`), and jobs made after the walk started (higher ids) are not
 * visited. Stops after `limit` changes.
 */
export async function changeByFilter(
  storage: StorageAdapter,
  filter: JobCountFilter,
  applies: readonly JobStatus[],
  limit: number,
  change: (jobId: string) => Promise<boolean>,
): Promise<BulkChangeResult> {
  const wanted = filter.status === undefined ? JOB_STATUSES : [filter.status].flat();
  const status = applies.filter((s) => wanted.includes(s));
  const result: BulkChangeResult = { matched: 0, changed: 0 };
  if (status.length === 0) return result;
  let before: string | undefined;
  while (result.changed < limit) {
    const page = await storage.listJobs({
      ...filter,
      status,
      limit: BULK_PAGE_SIZE,
      ...(before === undefined ? {} : { before }),
    });
    if (page.length === 0) break;
    before = page.at(-1)!.id;
    const ids = page.map((job) => job.id).slice(0, limit - result.changed);
    result.matched += ids.length;
    for (let i = 0; i < ids.length; i += BULK_PARALLELISM) {
      const done = await Promise.all(ids.slice(i, i + BULK_PARALLELISM).map(change));
      result.changed += done.filter(Boolean).length;
    }
    if (page.length < BULK_PAGE_SIZE) break;
  }
  return result;
}
