import type { Command } from 'commander';
import type { JobFilter, JobStatus } from 'reseolio';
import { parseStatuses } from './job-statuses.ts';

/** The job filter options shared by `jobs list` and the bulk forms of retry and cancel. */
export interface JobFilterValues {
  status?: JobStatus[] | undefined;
  name?: string | undefined;
  parent?: string | undefined;
  schedule?: string | undefined;
}

export function jobFilterOptions(command: Command): Command {
  return command
    .option(
      '--status <statuses>',
      'only jobs in these statuses, comma-separated (pending, running, waiting, success, dead, cancelled)',
      parseStatuses,
    )
    .option('--name <function>', 'only jobs of this durable function')
    .option('--parent <jobId>', 'only children of this job')
    .option('--schedule <scheduleId>', 'only runs of this schedule');
}

/** The engine's filter for the given options (without limit and offset). */
export function jobFilterOf(values: JobFilterValues): JobFilter {
  return {
    status: values.status,
    name: values.name,
    parentId: values.parent,
    scheduleId: values.schedule,
  };
}

/** True when any filter option was given. */
export function hasJobFilter(values: JobFilterValues): boolean {
  return [values.status, values.name, values.parent, values.schedule].some((v) => v !== undefined);
}
