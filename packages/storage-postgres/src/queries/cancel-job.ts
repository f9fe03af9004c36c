import type { StorageEvent } from 'reseolio/storage';
import { isUuid } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';
import { wokenEvents, writeJobSql } from './wake-parent.ts';

/**
 * Cancels a pending, running or waiting job. A running attempt keeps executing until the
 * engine notices (its next heartbeat no longer lists the job), but it can no longer ack:
 * clearing the owner and leaving `running` breaks its fence. A parent waiting for its
 * children is woken in the same statement (see `wake-parent.ts`).
 */
export async function cancelJob(
  exec: SqlExecutor,
  names: SchemaNames,
  jobId: string,
  now: number,
): Promise<{ cancelled: boolean; events: StorageEvent[] }> {
  if (!isUuid(jobId)) return { cancelled: false, events: [] };
  const rows = await exec(
    writeJobSql(names, {
      set:
        "status = 'cancelled', completed_at = $2, owner_id = NULL, lease_expires_at = NULL, " +
        'waiting_for = NULL, wake_topic = NULL, wake_children = NULL',
      fence: "j.status IN ('pending', 'running', 'waiting')",
      channelParam: '$3',
      outcome: false,
      wakeParent: true,
      // A running attempt ends here (its own ack will fail the fence).
      attempt: { endedAt: '$2::bigint', outcome: "'cancelled'", error: 'NULL' },
    }),
    [jobId, now, names.channel],
  );
  if (rows.length === 0) return { cancelled: false, events: [] };
  return {
    cancelled: true,
    events: [{ type: 'finished', jobId, status: 'cancelled' }, ...wokenEvents(rows[0])],
  };
}
