import type { StorageEvent } from 'reseolio/storage';
import { isUuid } from '../job-row.ts';
import { announceSql } from '../notify.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Cancels a pending or running job. A running attempt keeps executing until the engine
 * notices (its next heartbeat no longer lists the job), but it can no longer ack: clearing
 * the owner and leaving `running` breaks its fence.
 */
export async function cancelJob(
  exec: SqlExecutor,
  names: SchemaNames,
  jobId: string,
  now: number,
): Promise<{ cancelled: boolean; events: StorageEvent[] }> {
  if (!isUuid(jobId)) return { cancelled: false, events: [] };
  const rows = await exec(
    `
    WITH cancelled AS (
      UPDATE ${names.jobs}
      SET status = 'cancelled', completed_at = $2, owner_id = NULL, lease_expires_at = NULL
      WHERE id = $1 AND status IN ('pending', 'running')
      RETURNING id, name, status, run_at
    )
    SELECT cancelled.id, ${announceSql('$3', 'cancelled')} AS announced FROM cancelled`,
    [jobId, now, names.channel],
  );
  if (rows.length === 0) return { cancelled: false, events: [] };
  return { cancelled: true, events: [{ type: 'finished', jobId, status: 'cancelled' }] };
}
