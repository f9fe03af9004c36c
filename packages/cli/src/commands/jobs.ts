import type { Command } from 'commander';
import { type JobFilterValues, jobFilterOf, jobFilterOptions } from '../job-filter-options.ts';
import { output } from '../output.ts';
import { type PagingValues, pagingOptions } from '../paging-options.ts';
import { withSession } from '../session.ts';
import { type StorageOptionValues, storageOptions } from '../storage-options.ts';
import { formatJob, formatJobTable } from './job-view.ts';
import { changeJobsCommand } from './jobs-change.ts';

interface ListOptions extends StorageOptionValues, JobFilterValues, PagingValues {
  json?: boolean;
}

interface ShowOptions extends StorageOptionValues {
  json?: boolean;
}

export function jobsCommand(program: Command): void {
  const jobs = program
    .command('jobs')
    .summary('list, show, retry and cancel jobs')
    .description('List, inspect, retry and cancel the jobs in a storage.')
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio jobs list --status dead
  $ reseolio jobs show 0193a5c4-0c3e-7a51-9a8e-3c1f0e5d2b11
  $ reseolio jobs retry --status dead --name emails:send --yes`,
    );

  storageOptions(
    pagingOptions(
      jobFilterOptions(
        jobs
          .command('list')
          .summary('list jobs, newest first')
          .description('Lists jobs, newest first, optionally filtered.'),
      ),
      50,
    ),
  )
    .option('--json', 'print the jobs as a JSON array (every field)')
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio jobs list
  $ reseolio jobs list --status pending,waiting --name reports:build --limit 200
  $ reseolio jobs list --parent 0193a5c4-0c3e-7a51-9a8e-3c1f0e5d2b11 --json | jq '.[].status'`,
    )
    .action(async (options: ListOptions) => {
      const jobs = await withSession(options, ({ engine }) =>
        engine.listJobs({ ...jobFilterOf(options), limit: options.limit, offset: options.offset }),
      );
      if (options.json) return output.json(jobs);
      if (jobs.length === 0) return output.text('No jobs match.');
      output.text(formatJobTable(jobs));
      if (jobs.length === options.limit) {
        output.note(
          `(first ${jobs.length}: more may match; use --offset ${options.offset + jobs.length})`,
        );
      }
    });

  storageOptions(
    jobs
      .command('show')
      .summary('show one job')
      .description(
        'Shows every field of a job: arguments, result or error, progress, timing. Exits 1 when no job has the id.',
      )
      .argument('<id>', 'the job id'),
  )
    .option('--json', 'print the job as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio jobs show 0193a5c4-0c3e-7a51-9a8e-3c1f0e5d2b11
  $ reseolio jobs show 0193a5c4-0c3e-7a51-9a8e-3c1f0e5d2b11 --json | jq .error`,
    )
    .action(async (id: string, options: ShowOptions) => {
      // An unknown id rejects with JobNotFoundError, which names the id: exit 1.
      const job = await withSession(options, ({ engine }) => engine.getHandle(id).details());
      if (options.json) return output.json(job);
      output.text(formatJob(job));
    });

  changeJobsCommand(jobs, 'retry');
  changeJobsCommand(jobs, 'cancel');
}
