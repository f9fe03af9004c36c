import { deserialize } from '../serialization/decode.ts';
import type { ScheduleRecord } from '../storage/schedule-records.ts';
import type { ScheduleInfo } from './types.ts';

/** A stored schedule as the public API returns it. */
export function toScheduleInfo(record: ScheduleRecord): ScheduleInfo {
  return {
    id: record.id,
    name: record.name,
    cron: record.cron,
    timezone: record.timezone,
    args: deserialize(record.args) as unknown[],
    status: record.status,
    catchUp: record.catchUp,
    catchUpWindowMs: record.catchUpWindowMs,
    overlap: record.overlap,
    nextRunAt: dateOrNull(record.nextRunAt),
    lastRunAt: dateOrNull(record.lastRunAt),
    lastJobId: record.lastJobId,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
  };
}

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}
