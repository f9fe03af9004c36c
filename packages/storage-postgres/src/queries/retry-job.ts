import type { StorageEvent } from 'reseolio/storage';
import { isUuid } from '../job-row.ts';
import { announceSql } from '../notify.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Runs a dead or cancelled job again from scratch: `pending`, `attempt = 0`, due now. The last
 * error stays for the record until the next attempt overwrites it.
 */
export async function retryJob(
  exec: SqlExecutor,
  names: SchemaNames,
  jobId: string,
  now: number,
): Promise<{ retried: boolean; events: StorageEvent[] }> {
  if (!isUuid(jobId)) return { retried: false, events: [] };
  const rows = await exec(
    `
    WITH retried AS (
      UPDATE ${names.jobs}
      SET status = 'pending', attempt = 0, run_at = $2, completed_at = NULL, result = NULL,
          owner_id = NULL, lease_expires_at = NULL
      WHERE id = $1 AND status IN ('dead', 'cancelled')
      RETURNING id, name, status, run_at
    )
    SELECT retried.name, ${announceSql('$3', 'retried')} AS announced FROM retried`,
    [jobId, now, names.channel],
  );
  const row = rows[0];
  if (!row) return { retried: false, events: [] };
  return { retried: true, events: [{ type: 'ready', name: row.name as string, runAt: now }] };
}
