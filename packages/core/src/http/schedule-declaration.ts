import { resolveScheduleOptions, validateScheduleId } from '../schedules/schedule-options.ts';

/**
 * Checks a schedule declared in code (a decorator's `schedule` option) the way
 * `reseolio.schedule(id, fn, options)` will, without storage: so a bad cron or zone fails the
 * app's boot with `InvalidScheduleError`, and a bad option or id with
 * `ReseolioValidationError`, before anything is registered or stored.
 */
export function validateScheduleDeclaration(id: unknown, options: unknown): void {
  validateScheduleId(id);
  resolveScheduleOptions(options);
}
