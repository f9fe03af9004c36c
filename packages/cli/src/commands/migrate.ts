import type { Command } from 'commander';
import { openStorage } from '../open-storage.ts';
import { output } from '../output.ts';
import { type StorageOptionValues, storageOptions, storageUrlOf } from '../storage-options.ts';

interface MigrateOptions extends StorageOptionValues {
  dryRun?: boolean;
  json?: boolean;
}

export function migrateCommand(program: Command): void {
  storageOptions(
    program
      .command('migrate')
      .summary("apply Reseolio's migrations, or print their SQL")
      .description(
        "Creates or upgrades Reseolio's tables to this version, as an app's engine does at start, " +
          'in one transaction (PostgreSQL) or one write lock (SQLite); safe while apps run. ' +
          'With --dry-run, prints the SQL of the pending migrations exactly as it would run and ' +
          'changes nothing.',
      )
      .option('--dry-run', 'print the SQL that would run; change nothing')
      .option('--json', 'print the result as JSON'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio migrate --storage postgres://app@db:5432/app
  $ reseolio migrate --dry-run > reseolio-migrations.sql
  $ DATABASE_URL=sqlite:./reseolio.db reseolio migrate --json`,
    )
    .action(async (options: MigrateOptions) => {
      const storage = await openStorage(storageUrlOf(options), {
        schema: options.schema,
        migrate: true,
      });
      try {
        const before = await storage.migrationStatus();
        if (options.dryRun) {
          if (options.json) output.json({ dryRun: true, ...before });
          else if (before.pending.length === 0) output.note(upToDate(before.shipped));
          else output.text(before.pending.map((m) => `-- ${m.tag}\n${m.sql}\n`).join('\n'));
          return;
        }
        await storage.init();
        const after = await storage.migrationStatus();
        const left = new Set(after.pending.map((m) => m.tag));
        const migrated = before.pending.map((m) => m.tag).filter((tag) => !left.has(tag));
        if (options.json) {
          output.json({ dryRun: false, migrated, ...after });
        } else if (migrated.length === 0) {
          output.text(upToDate(after.shipped));
        } else {
          output.text(
            `Applied ${migrated.length} migration${migrated.length === 1 ? '' : 's'}: ${migrated.join(', ')}.`,
          );
        }
      } finally {
        await storage.close();
      }
    });
}

function upToDate(shipped: number): string {
  return `Up to date: all ${shipped} migrations are applied.`;
}
