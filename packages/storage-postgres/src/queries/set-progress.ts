import type { ProgressInput, StorageEvent } from 'reseolio/storage';
import { isUuid } from '../job-row.ts';
import { MAX_PAYLOAD_BYTES } from '../notify.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Stores a running attempt's progress, fenced on (id, lease token, running), and announces it
 * in the same statement: `{"type":"progress","jobId","name","progress"}`, or without
 * `progress` when that would reach PostgreSQL's NOTIFY limit (the listener reads the job).
 * Nothing is written or announced when the fence fails (undefined); else the event, for
 * this process's listeners when LISTEN is off.
 */
export async function setProgress(
  exec: SqlExecutor,
  names: SchemaNames,
  input: ProgressInput,
): Promise<StorageEvent | undefined> {
  if (!isUuid(input.id)) return undefined;
  const short = `json_build_object('type', 'progress', 'jobId', p.id, 'name', p.name)::text`;
  const rows = await exec(
    `
    WITH stored AS (
      UPDATE ${names.jobs}
      SET progress = $3
      WHERE id = $1 AND lease_token = $2 AND status = 'running'
      RETURNING id, name, progress
    )
    SELECT p.name, pg_notify($4, CASE WHEN octet_length(p.full) <= ${MAX_PAYLOAD_BYTES} THEN p.full ELSE ${short} END)
    FROM (
      SELECT id, name, json_build_object('type', 'progress', 'jobId', id, 'name', name,
        'progress', progress)::text AS full
      FROM stored
    ) p`,
    [input.id, input.leaseToken, input.progress, names.channel],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { type: 'progress', jobId: input.id, name: row.name as string, progress: input.progress };
}
