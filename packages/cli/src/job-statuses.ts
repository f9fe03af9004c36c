import { InvalidArgumentError } from 'commander';
import type { JobStatus } from 'reseolio';
import { JOB_STATUSES } from 'reseolio/storage';

/** The statuses `jobs retry` applies to, and those `jobs cancel` applies to. */
export const RETRYABLE: readonly JobStatus[] = ['dead', 'cancelled'];
export const CANCELLABLE: readonly JobStatus[] = ['pending', 'running', 'waiting'];

/** Parses `--status dead` or `--status pending,waiting` into statuses. */
export function parseStatuses(text: string): JobStatus[] {
  const statuses = text.split(',').map((part) => part.trim());
  for (const status of statuses) {
    if (!(JOB_STATUSES as readonly string[]).includes(status)) {
      throw new InvalidArgumentError(
        `"${status}" is not a job status: use one or more of ${JOB_STATUSES.join(', ')} (comma-separated).`,
      );
    }
  }
  return [...new Set(statuses)] as JobStatus[];
}
