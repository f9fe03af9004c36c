import { type Command, Option } from 'commander';
import type { Reseolio, ScheduleInfo } from 'reseolio';
import { formatTime } from '../format.ts';
import { output } from '../output.ts';
import { type PagingValues, pagingOptions } from '../paging-options.ts';
import { withSession } from '../session.ts';
import { type StorageOptionValues, storageOptions } from '../storage-options.ts';
import { formatTable } from '../table.ts';

interface ListOptions extends StorageOptionValues, PagingValues {
  status?: 'active' | 'paused';
  name?: string;
  json?: boolean;
}

interface OneOptions extends StorageOptionValues {
  json?: boolean;
}

const EXAMPLE_ID = 'nightly-report';

export function schedulesCommand(program: Command): void {
  const schedules = program
    .command('schedules')
    .summary('list, pause, resume and trigger schedules')
    .description('List the schedules stored in a storage, pause and resume them, or run one now.')
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio schedules list
  $ reseolio schedules pause ${EXAMPLE_ID}
  $ reseolio schedules trigger ${EXAMPLE_ID} --json`,
    );

  storageOptions(
    pagingOptions(
      schedules
        .command('list')
        .summary('list schedules by id')
        .description('Lists schedules by id, optionally filtered.'),
      100,
    ),
  )
    .addOption(
      new Option('--status <status>', 'only active or paused ones').choices(['active', 'paused']),
    )
    .option('--name <function>', 'only schedules of this durable function')
    .option('--json', 'print the schedules as a JSON array')
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio schedules list --status paused
  $ reseolio schedules list --name reports:build --json`,
    )
    .action(async (options: ListOptions) => {
      const found = await withSession(options, ({ engine }) =>
        engine.listSchedules({
          status: options.status,
          name: options.name,
          limit: options.limit,
          offset: options.offset,
        }),
      );
      if (options.json) return output.json(found);
      if (found.length === 0) return output.text('No schedules match.');
      output.text(
        formatTable(
          ['ID', 'FUNCTION', 'CRON', 'TIMEZONE', 'STATUS', 'NEXT RUN', 'LAST RUN'],
          found.map((s) => [
            s.id,
            s.name,
            s.cron,
            s.timezone,
            s.status,
            formatTime(s.nextRunAt),
            formatTime(s.lastRunAt),
          ]),
        ),
      );
    });

  oneSchedule(schedules, 'pause', 'no runs until resumed (trigger still runs it)', (engine, id) =>
    engine.pauseSchedule(id),
  );
  oneSchedule(
    schedules,
    'resume',
    'active again from its next tick (ticks missed while paused are not run)',
    (engine, id) => engine.resumeSchedule(id),
  );

  storageOptions(
    schedules
      .command('trigger')
      .summary('run a schedule once now')
      .description(
        "Enqueues one run of the schedule now, outside its cadence (a paused one too); its next tick stays. A worker that registered the schedule's function runs it. Exits 1 when no schedule has the id.",
      )
      .argument('<id>', 'the schedule id'),
  )
    .option('--json', 'print the job id as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio schedules trigger ${EXAMPLE_ID}
  $ reseolio jobs show "$(reseolio schedules trigger ${EXAMPLE_ID} --json | jq -r .jobId)"`,
    )
    .action(async (id: string, options: OneOptions) => {
      const jobId = await withSession(
        options,
        async ({ engine }) => (await engine.triggerSchedule(id)).jobId,
      );
      if (options.json) return output.json({ scheduleId: id, jobId });
      output.text(`Triggered ${id}: job ${jobId}.`);
    });
}

/** `schedules pause|resume <id>`: one change to one schedule, which is then shown. */
function oneSchedule(
  schedules: Command,
  action: 'pause' | 'resume',
  effect: string,
  change: (engine: Reseolio, id: string) => Promise<ScheduleInfo>,
): void {
  storageOptions(
    schedules
      .command(action)
      .summary(`${action} a schedule`)
      .description(
        `${action[0]!.toUpperCase()}${action.slice(1)}s a schedule: ${effect}. Exits 1 when no schedule has the id.`,
      )
      .argument('<id>', 'the schedule id'),
  )
    .option('--json', 'print the schedule as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio schedules ${action} ${EXAMPLE_ID}
  $ reseolio schedules ${action} ${EXAMPLE_ID} --json`,
    )
    .action(async (id: string, options: OneOptions) => {
      const schedule = await withSession(options, ({ engine }) => change(engine, id));
      if (options.json) return output.json(schedule);
      output.text(
        `Schedule ${schedule.id} is ${schedule.status}; next run ${formatTime(schedule.nextRunAt)}.`,
      );
    });
}
