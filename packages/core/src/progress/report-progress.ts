import { attemptStorage } from '../context.ts';
import { ReseolioStateError } from '../errors.ts';
import { encodeProgress } from './progress-value.ts';

/**
 * Reports the running job's progress: a finite number (say, 0 to 1) or small JSON data
 * (`{ done: 3, total: 10 }`), at most 8192 bytes serialized. It is stored with the job, shown
 * by `details().progress` and the HTTP job routes, and announced as the `job:progress` event
 * on every engine on the same storage (other processes included).
 *
 * Reports are coalesced: at most one write per attempt is in flight, and reports made
 * meanwhile collapse into one write of the latest value. So calling it often is cheap, and
 * need not be awaited (`void reportProgress(i / n)`). The returned promise resolves once this
 * value or a later one is stored, with `true`; with `false` when the attempt no longer holds
 * the job (its lease was lost, it was cancelled or ended): nothing is written then, and the
 * attempt's `signal` aborts. It rejects only when storage failed (a report nobody awaits does
 * not crash the process; the engine logs it). What a handler reported before it returned is
 * stored before the job's outcome. The last value stays after the job ends and across
 * retries, until the next report.
 * @throws ReseolioStateError outside a durable function's handler
 * @throws ReseolioValidationError for a value that is not JSON data
 *   (`RESEOLIO_INVALID_PROGRESS`) or is over 8192 bytes (`RESEOLIO_PROGRESS_TOO_LARGE`); thrown
 *   at the call, not through the promise
 */
export function reportProgress(progress: unknown): Promise<boolean> {
  const context = attemptStorage.getStore();
  if (context === undefined) {
    throw new ReseolioStateError(
      "reportProgress() can only be called inside a durable function's handler (it stores " +
        'progress on the running job); call it from the function you passed to ' +
        'reseolio.durable().',
    );
  }
  return context.progress.report(encodeProgress(progress));
}
