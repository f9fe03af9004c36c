import { ScheduleNotFoundError } from '../errors.ts';
import { toScheduleJSON } from '../job-json.ts';
import type { Reseolio } from '../reseolio.ts';
import type { ScheduleStatus } from '../storage/schedule-records.ts';
import type { ApiResponse } from './job-api.ts';

/**
 * The schedule routes' behaviour, independent of any framework, as `job-api.ts` is for the
 * job routes: each function takes the engine and already-validated input and returns the
 * HTTP status and JSON body. Errors are mapped by the same `responseForError`, so an unknown
 * schedule is 404 `RESEOLIO_SCHEDULE_NOT_FOUND` and bad input 400 `RESEOLIO_INVALID_INPUT`.
 */

export interface ScheduleListQuery {
  status?: ScheduleStatus | undefined;
  name?: string | undefined;
  limit: number;
  offset: number;
}

/** `GET /?status&name&limit&offset` → 200 `{ schedules, limit, offset }`, by id. */
export async function listSchedules(
  engine: Reseolio,
  query: ScheduleListQuery,
): Promise<ApiResponse> {
  const schedules = await engine.listSchedules(query);
  return {
    status: 200,
    body: { schedules: schedules.map(toScheduleJSON), limit: query.limit, offset: query.offset },
  };
}

/** `GET /:id` → 200 `{ schedule }`; 404 for an unknown id. */
export async function getSchedule(engine: Reseolio, id: string): Promise<ApiResponse> {
  const info = await engine.getSchedule(id);
  if (info === null) throw new ScheduleNotFoundError(id);
  return { status: 200, body: { schedule: toScheduleJSON(info) } };
}

/** `POST /:id/pause` → 200 `{ schedule }` (paused; pausing a paused schedule changes nothing). */
export async function pauseSchedule(engine: Reseolio, id: string): Promise<ApiResponse> {
  return { status: 200, body: { schedule: toScheduleJSON(await engine.pauseSchedule(id)) } };
}

/**
 * `POST /:id/resume` → 200 `{ schedule }`, active from its next tick after now (ticks missed
 * while paused are not caught up); resuming an active schedule changes nothing.
 */
export async function resumeSchedule(engine: Reseolio, id: string): Promise<ApiResponse> {
  return { status: 200, body: { schedule: toScheduleJSON(await engine.resumeSchedule(id)) } };
}

/**
 * `POST /:id/trigger` → 202 `{ jobId }`: one run enqueued now, outside the cadence (a paused
 * schedule too); the next tick stays. 202, because the run is accepted, not done: follow it
 * on the job routes, `GET /jobs/:jobId/result`.
 */
export async function triggerSchedule(engine: Reseolio, id: string): Promise<ApiResponse> {
  const handle = await engine.triggerSchedule(id);
  return { status: 202, body: { jobId: handle.jobId } };
}
