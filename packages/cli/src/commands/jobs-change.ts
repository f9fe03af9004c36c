import type { Command } from 'commander';
import { JobNotFoundError, type JobStatus, type Reseolio, ReseolioStateError } from 'reseolio';
import { canAsk, confirm } from '../confirm.ts';
import { CommandFailure, UsageError } from '../exit-codes.ts';
import {
  hasJobFilter,
  type JobFilterValues,
  jobFilterOf,
  jobFilterOptions,
} from '../job-filter-options.ts';
import { CANCELLABLE, RETRYABLE } from '../job-statuses.ts';
import { output } from '../output.ts';
import { startProgress } from '../progress.ts';
import { withSession } from '../session.ts';
import { type StorageOptionValues, storageOptions } from '../storage-options.ts';

type Action = 'retry' | 'cancel';

interface ChangeOptions extends StorageOptionValues, JobFilterValues {
  yes?: boolean;
  json?: boolean;
}

/** What a run of `jobs retry` or `jobs cancel` did; also its `--json` output. */
interface ChangeResult {
  /** Bulk form: how many jobs matched the filter. */
  matched?: number;
  /** The jobs changed. */
  changed: string[];
  /** The jobs not changed, and why (not found, or in a status the action does not apply to). */
  failed: { id: string; reason: string }[];
}

/** How each action reads, and what it applies to. */
const ACTIONS: Record<
  Action,
  { applies: readonly JobStatus[]; verb: string; done: string; about: string }
> = {
  retry: {
    applies: RETRYABLE,
    verb: 'Retry',
    done: 'Retried',
    about: 'Runs dead or cancelled jobs again from attempt 1.',
  },
  cancel: {
    applies: CANCELLABLE,
    verb: 'Cancel',
    done: 'Cancelled',
    about: "Cancels pending, running or waiting jobs (a running one's handler is aborted).",
  },
};

export function changeJobsCommand(jobs: Command, action: Action): void {
  const { applies, verb, done, about } = ACTIONS[action];
  const exampleStatus = applies[0];
  storageOptions(
    jobFilterOptions(
      jobs
        .command(action)
        .summary(`${action} jobs by id, or every job matching --status`)
        .description(
          `${about} Give job ids, or --status (${applies.join(', ')}) with optional --name, ` +
            '--parent and --schedule to act on every matching job: that bulk form asks for ' +
            'confirmation, which --yes gives ahead (required when stdin is not a terminal). ' +
            'Exits 1 when a job could not be changed (not found, or in another status).',
        )
        .argument('[ids...]', 'ids of the jobs'),
    ),
  )
    .option('-y, --yes', 'bulk form: do not ask for confirmation')
    .option('--json', 'print what changed as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio jobs ${action} 0193a5c4-0c3e-7a51-9a8e-3c1f0e5d2b11 0193a5c4-1d2f-7b62-8c9d-4e2a1f6e3c22
  $ reseolio jobs ${action} --status ${exampleStatus} --name emails:send
  $ reseolio jobs ${action} --status ${applies.join(',')} --yes --json`,
    )
    .action(async (ids: string[], options: ChangeOptions) => {
      const bulk = hasJobFilter(options);
      checkUsage(action, ids, options, bulk);
      const result = await withSession(options, async ({ engine }) => {
        const targets = bulk ? await matchingIds(engine, options) : ids;
        const matched = bulk ? { matched: targets.length } : {};
        if (targets.length === 0) return { ...matched, changed: [], failed: [] };
        if (bulk && !options.yes) {
          const question = `${verb} ${targets.length} job${targets.length === 1 ? '' : 's'} (${describeFilter(options)})?`;
          if (!(await confirm(question)))
            throw new CommandFailure('Not confirmed: nothing changed.');
        }
        return { ...matched, ...(await apply(engine, action, targets, bulk && !options.json)) };
      });
      report(result, done, options.json === true);
      if (result.failed.length > 0) {
        throw new CommandFailure(
          `${result.failed.length} of ${result.changed.length + result.failed.length} jobs not ${done.toLowerCase()}.`,
        );
      }
    });
}

/** Refuses, before anything is read, a command line that cannot be carried out. */
function checkUsage(action: Action, ids: string[], options: ChangeOptions, bulk: boolean): void {
  const { applies } = ACTIONS[action];
  if (ids.length > 0 && bulk) {
    throw new UsageError(
      `Give job ids or filter options (--status, --name, --parent, --schedule), not both.`,
    );
  }
  if (ids.length === 0 && !bulk) {
    throw new UsageError(
      `Give the ids of the jobs to ${action}, or --status ${applies.join(',')} (with --name, ` +
        `--parent or --schedule) to ${action} every matching job.`,
    );
  }
  if (!bulk) return;
  if (options.status === undefined) {
    throw new UsageError(
      `The bulk form of jobs ${action} needs --status (${applies.join(' or ')}).`,
    );
  }
  const wrong = options.status.filter((status) => !applies.includes(status));
  if (wrong.length > 0) {
    throw new UsageError(
      `jobs ${action} applies to ${applies.join(', ')} jobs, not ${wrong.join(', ')}.`,
    );
  }
  if (!options.yes && !canAsk()) {
    throw new UsageError(
      `Refusing to ${action} jobs in bulk without confirmation: stdin is not a terminal, so ` +
        'pass --yes.',
    );
  }
}

/**
 * The ids of every job the filter matches, read page by page before anything changes. Pages
 * follow the keyset cursor (`before`: the last id of the previous page), so a job added or
 * changed meanwhile neither shifts a page nor makes one skip rows, and a deep page costs what
 * the first one does.
 */
async function matchingIds(engine: Reseolio, options: JobFilterValues): Promise<string[]> {
  const ids: string[] = [];
  const pageSize = 1000;
  let before: string | undefined;
  for (;;) {
    const page = await engine.listJobs({ ...jobFilterOf(options), limit: pageSize, before });
    for (const job of page) ids.push(job.id);
    if (page.length < pageSize) return ids;
    before = page.at(-1)!.id;
  }
}

/** Applies `action` to each job in turn; a job that cannot be changed is noted, not fatal. */
async function apply(
  engine: Reseolio,
  action: Action,
  ids: readonly string[],
  showProgress: boolean,
): Promise<ChangeResult> {
  const result: ChangeResult = { changed: [], failed: [] };
  const progress = startProgress(ACTIONS[action].verb, ids.length, showProgress);
  try {
    for (const id of ids) {
      const reason = action === 'retry' ? await retry(engine, id) : await cancel(engine, id);
      if (reason === undefined) result.changed.push(id);
      else result.failed.push({ id, reason });
      progress.tick();
    }
  } finally {
    progress.stop();
  }
  return result;
}

/** Undefined when retried, else why not (the engine's message names the id and status). */
async function retry(engine: Reseolio, id: string): Promise<string | undefined> {
  try {
    await engine.retryJob(id);
    return undefined;
  } catch (error) {
    return reasonOf(error);
  }
}

async function cancel(engine: Reseolio, id: string): Promise<string | undefined> {
  const handle = engine.getHandle(id);
  try {
    if (await handle.cancel()) return undefined;
    return `Job ${id} is ${await handle.status()}: only ${CANCELLABLE.join(', ')} jobs can be cancelled.`;
  } catch (error) {
    return reasonOf(error);
  }
}

/** Errors about the job (not found, wrong status) are reasons; storage failures stop the run. */
function reasonOf(error: unknown): string {
  if (error instanceof JobNotFoundError || error instanceof ReseolioStateError) {
    return error.message;
  }
  throw error;
}

function report(result: ChangeResult, done: string, json: boolean): void {
  if (json) {
    output.json(result);
  } else if (result.matched === 0) {
    output.text('No jobs match.');
  } else {
    for (const { reason } of result.failed) output.note(reason);
    output.text(`${done} ${result.changed.length} job${result.changed.length === 1 ? '' : 's'}.`);
  }
}

function describeFilter(options: JobFilterValues): string {
  return [
    `status ${options.status?.join(',')}`,
    options.name !== undefined ? `function ${options.name}` : undefined,
    options.parent !== undefined ? `children of ${options.parent}` : undefined,
    options.schedule !== undefined ? `runs of schedule ${options.schedule}` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
}
