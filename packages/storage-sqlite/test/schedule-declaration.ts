import { T0 } from '@reseolio/storage-contract';
import type { ScheduleUpsert } from 'reseolio/storage';

/** A declaration of a schedule due at T0, every minute; `overrides` win. */
export function scheduleDeclaration(overrides: Partial<ScheduleUpsert> = {}): ScheduleUpsert {
  return {
    id: 's:test',
    name: 'test:tick',
    cron: '* * * * *',
    timezone: 'UTC',
    args: '[]',
    catchUp: 'latest',
    overlap: 'allow',
    catchUpWindowMs: 0,
    nextRunAt: T0,
    now: T0,
    ...overrides,
  };
}
