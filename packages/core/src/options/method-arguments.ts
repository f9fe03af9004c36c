import { MAX_TIMER_MS, TIMER_RANGE } from './bounds.ts';
import { DEFAULT_STOP_TIMEOUT_MS } from './defaults.ts';
import { assertKnownKeys, assertPlainObject, integer, invalid, isIntegerIn } from './validators.ts';

/** The arguments of the engine's methods that take options: `result()`, `stop()` (job
 * filters: `job-filter.ts`). */

/** `result(timeoutMs)`: an integer of milliseconds that a timer can wait, or `undefined`. */
export function validateResultTimeout(timeoutMs: unknown): void {
  if (timeoutMs === undefined) return;
  if (!isIntegerIn(timeoutMs, 0, MAX_TIMER_MS)) {
    throw invalid(
      'timeoutMs',
      timeoutMs,
      `an integer from 0 to ${MAX_TIMER_MS} milliseconds (${TIMER_RANGE}); leave it out to wait ` +
        'as long as the job takes',
      'result()',
    );
  }
}

/** `stop({ timeoutMs })`: the drain deadline in milliseconds. */
export function resolveStopTimeout(options: unknown): number {
  if (options === undefined) return DEFAULT_STOP_TIMEOUT_MS;
  assertPlainObject(options, 'stop() options');
  assertKnownKeys(options as Record<string, unknown>, ['timeoutMs'], 'stop() option');
  return integer(
    options,
    'timeoutMs',
    DEFAULT_STOP_TIMEOUT_MS,
    0,
    MAX_TIMER_MS,
    'stop() options',
    ` milliseconds (${TIMER_RANGE})`,
  );
}
