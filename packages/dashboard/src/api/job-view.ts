import { type JobDetails, type JobJSON, type StoredError, toJobJSON } from 'reseolio';
import type { AttemptView, ErrorView } from '../wire-types.ts';

/**
 * A job as the dashboard's API answers it: the job routes' `JobJSON` (so both read the same),
 * plus what only an operator's page shows: the error's stack and every attempt. The job
 * routes leave stacks out because their callers are applications; the dashboard is behind
 * its own `authorize`, for the people who debug the jobs.
 */
export interface JobView extends Omit<JobJSON, 'attempts'> {
  errorDetail: ErrorView | null;
  /**
   * Every attempt, oldest first, their errors with stacks (where `JobJSON.attempts` has none);
   * `null` in lists, which do not read them.
   */
  attempts: AttemptView[] | null;
}

export function toJobView(details: JobDetails): JobView {
  return {
    ...toJobJSON(details),
    errorDetail: details.error === null ? null : toErrorView(details.error),
    attempts:
      details.attempts?.map((attempt) => ({
        attempt: attempt.attempt,
        startedAt: attempt.startedAt.toISOString(),
        endedAt: attempt.endedAt?.toISOString() ?? null,
        outcome: attempt.outcome,
        error: attempt.error === null ? null : toErrorView(attempt.error),
        workerId: attempt.workerId,
      })) ?? null,
  };
}

function toErrorView(error: StoredError, depth = 0): ErrorView {
  return {
    name: String(error.name),
    message: String(error.message),
    code: error.code ?? null,
    stack: error.stack ?? null,
    // A stored chain is finite, but a page need not show more than a few causes.
    cause: error.cause !== undefined && depth < 5 ? toErrorView(error.cause, depth + 1) : null,
  };
}
