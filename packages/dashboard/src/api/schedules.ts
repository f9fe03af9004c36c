import cronstrue from 'cronstrue';
import {
  type Reseolio,
  ReseolioValidationError,
  type ScheduleJSON,
  toScheduleJSON,
} from 'reseolio';
import type { ApiResponse } from 'reseolio/http';

/** A schedule as the dashboard answers it: the schedule routes' JSON and its cron in words. */
export interface ScheduleView extends ScheduleJSON {
  /** `"At 02:00 AM"`; the cron itself when it cannot be put in words. */
  cronText: string;
}

/** The most schedules one page lists (the engine's own bound). */
const MAX_SCHEDULES = 1000;

/** `GET api/schedules?offset` → `{ schedules, next }`, by id. */
export async function listSchedules(
  engine: Reseolio,
  query: URLSearchParams,
): Promise<ApiResponse> {
  const offsetText = query.get('offset') ?? '0';
  const offset = Number(offsetText);
  if (!/^\d+$/.test(offsetText) || !Number.isSafeInteger(offset)) {
    throw new ReseolioValidationError(
      `querystring/offset must be a non-negative integer, got "${offsetText}".`,
    );
  }
  // Schedules are declared in code: a few, or a few hundred; offset paging is fine here.
  const rows = await engine.listSchedules({ limit: MAX_SCHEDULES, offset });
  return {
    status: 200,
    body: {
      schedules: rows.map((info) => toScheduleView(toScheduleJSON(info))),
      next: rows.length === MAX_SCHEDULES ? offset + MAX_SCHEDULES : null,
    },
  };
}

export function toScheduleView(schedule: ScheduleJSON): ScheduleView {
  return { ...schedule, cronText: cronInWords(schedule.cron) };
}

/** The cron in words, in English; the cron as written when cronstrue cannot read it. */
export function cronInWords(cron: string): string {
  try {
    return cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return cron;
  }
}
