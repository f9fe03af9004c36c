import { createRequire } from 'node:module';
import { Command } from 'commander';
import { dashboardCommand } from './commands/dashboard.ts';
import { doctorCommand } from './commands/doctor.ts';
import { jobsCommand } from './commands/jobs.ts';
import { migrateCommand } from './commands/migrate.ts';
import { schedulesCommand } from './commands/schedules.ts';
import { statsCommand } from './commands/stats.ts';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * The `reseolio` command line. Commander exits on its own for help, version and usage
 * errors; `exitOverride` turns those into thrown `CommanderError`s instead, so that `run`
 * decides the exit code (settings made here before `.command()` are inherited by every
 * subcommand).
 */
export function buildProgram(): Command {
  const program = new Command('reseolio')
    .description(
      'Operate Reseolio on PostgreSQL or SQLite: migrations, jobs, schedules, stats, health checks and the dashboard.',
    )
    .version(version, '-v, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Storage: --storage <url>, else $RESEOLIO_STORAGE, else $DATABASE_URL
  postgres://user:password@host:5432/database   (needs @reseolio/storage-postgres)
  sqlite:./reseolio.db                           (needs @reseolio/storage-sqlite)

Exit codes: 0 done, 1 failed (storage unreachable, job not found…), 2 usage error,
  3 doctor found warnings only.

Examples:
  $ reseolio migrate --storage postgres://app@db:5432/app
  $ reseolio jobs list --status dead
  $ reseolio jobs retry --status dead --name emails:send --yes
  $ reseolio doctor
  $ reseolio dashboard --storage sqlite:./reseolio.db --public`,
    );
  migrateCommand(program);
  jobsCommand(program);
  schedulesCommand(program);
  statsCommand(program);
  doctorCommand(program);
  dashboardCommand(program);
  return program;
}
