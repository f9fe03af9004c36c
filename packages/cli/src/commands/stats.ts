import type { Command } from 'commander';
import { JOB_STATUSES } from 'reseolio/storage';
import { formatDuration } from '../format.ts';
import { output } from '../output.ts';
import { withSession } from '../session.ts';
import { type StorageOptionValues, storageOptions } from '../storage-options.ts';
import { formatTable } from '../table.ts';

interface StatsOptions extends StorageOptionValues {
  json?: boolean;
}

export function statsCommand(program: Command): void {
  storageOptions(
    program
      .command('stats')
      .summary('job counts by function and status')
      .description(
        'Counts the stored jobs of every durable function by status, with how long the oldest ' +
          'due job that is not running has waited (one aggregate query, the numbers ' +
          'reseolio.stats() and the metrics report).',
      ),
  )
    .option('--json', 'print the counts as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio stats
  $ reseolio stats --json | jq '.totals.dead'`,
    )
    .action(async (options: StatsOptions) => {
      const stats = await withSession(options, ({ engine }) => engine.stats());
      if (options.json) return output.json(stats);
      if (stats.functions.length === 0) return output.text('No jobs stored.');
      const age = (ms: number | null) => (ms === null ? '-' : formatDuration(ms));
      output.text(
        formatTable(
          ['FUNCTION', ...JOB_STATUSES.map((s) => s.toUpperCase()), 'OLDEST PENDING'],
          [
            ...stats.functions.map((f) => [
              f.name,
              ...JOB_STATUSES.map((s) => f.counts[s]),
              age(f.oldestPendingAgeMs),
            ]),
            ['TOTAL', ...JOB_STATUSES.map((s) => stats.totals[s]), ''],
          ],
        ),
      );
    });
}
