import type { JobRecord } from './storage/records.ts';
import type { JobInfo } from './types.ts';

/** What events say about a job. */
export function infoOf(record: JobRecord): JobInfo {
  return {
    id: record.id,
    name: record.name,
    attempt: record.attempt,
    maxAttempts: record.maxAttempts,
    parentId: record.parentId,
    idempotencyKey: record.idempotencyKey,
  };
}
