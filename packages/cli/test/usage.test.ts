import { describe, expect, it } from 'vitest';
import { parsed, reseolio, sqliteTarget } from './helpers.ts';

/** Every command and subcommand: each has its own --help with examples. */
const COMMANDS = [
  [],
  ['migrate'],
  ['jobs'],
  ['jobs', 'list'],
  ['jobs', 'show'],
  ['jobs', 'retry'],
  ['jobs', 'cancel'],
  ['schedules'],
  ['schedules', 'list'],
  ['schedules', 'pause'],
  ['schedules', 'resume'],
  ['schedules', 'trigger'],
  ['stats'],
  ['doctor'],
];

describe('help', () => {
  it.each(COMMANDS.map((path) => [path.join(' ') || '(root)', path]))(
    '%s --help prints usage with examples and exits 0',
    async (_, path) => {
      const run = await reseolio([...path, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: reseolio/);
      expect(run.stdout).toContain('Examples:');
      expect(run.stdout).toContain(`$ reseolio ${path.join(' ')}`.trimEnd());
    },
  );

  it('--version prints the package version', async () => {
    const run = await reseolio(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lists the dashboard command', async () => {
    const run = await reseolio(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^\s+dashboard \[options\]\s+serve the web dashboard on a storage$/m,
    );
  });
});

describe('usage errors exit 2 with a message on stderr and nothing on stdout', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown command', ['jbos', 'list'], /unknown command 'jbos'/],
    ['an unknown subcommand', ['jobs', 'lst'], /unknown command 'lst'[\s\S]*Did you mean list\?/],
    ['a group without its subcommand', ['jobs'], /Usage: reseolio jobs/],
    ['an unknown option', ['jobs', 'list', '--colour'], /unknown option '--colour'/],
    ['a bad status', ['jobs', 'list', '--status', 'done'], /"done" is not a job status/],
    ['a limit out of range', ['jobs', 'list', '--limit', '0'], /integer from 1 to 1000/],
    ['a limit that is no number', ['jobs', 'list', '--limit', 'ten'], /integer from 1 to 1000/],
    ['a missing job id', ['jobs', 'show'], /missing required argument 'id'/],
    [
      'a bad schedule status',
      ['schedules', 'list', '--status', 'on'],
      /Allowed choices are active, paused/,
    ],
    ['a bad duration', ['doctor', '--stuck-after', 'soon'], /duration such as 90s/],
    [
      'no storage anywhere',
      ['jobs', 'list'],
      /No storage given: pass --storage <url>, or set RESEOLIO_STORAGE or DATABASE_URL/,
    ],
    [
      'a storage URL of another scheme',
      ['stats', '--storage', 'mysql://db/app'],
      /must be postgres:\/\/… or sqlite:…, got the scheme "mysql:"/,
    ],
    [
      '--schema with SQLite',
      ['stats', '--storage', 'sqlite:./x.db', '--schema', 'jobs'],
      /--schema applies to PostgreSQL storage only/,
    ],
    [
      'retry with neither ids nor filters',
      ['jobs', 'retry'],
      /Give the ids of the jobs to retry, or --status dead,cancelled/,
    ],
    ['retry with ids and filters', ['jobs', 'retry', 'a', '--status', 'dead'], /not both/],
    [
      'a bulk retry of pending jobs',
      ['jobs', 'retry', '--status', 'pending'],
      /applies to dead, cancelled jobs, not pending/,
    ],
    [
      'a bulk cancel without --status',
      ['jobs', 'cancel', '--name', 'x'],
      /needs --status \(pending or running or waiting\)/,
    ],
  ];
  it.each(cases)('%s', async (_, args, message) => {
    const run = await reseolio(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('a bulk change without --yes is refused when stdin is not a terminal, before reading anything', async () => {
    // The file does not exist: refusing first means it is never opened (or created).
    const target = sqliteTarget();
    const run = await reseolio([
      'jobs',
      'cancel',
      '--status',
      'pending',
      '--name',
      'x',
      ...target.args,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('stdin is not a terminal, so pass --yes');
  });
});

describe('storage resolution', () => {
  it('--storage wins over RESEOLIO_STORAGE, which wins over DATABASE_URL', async () => {
    const migrated = sqliteTarget();
    const empty = sqliteTarget();
    const url = (target: typeof migrated) => target.args[1]!;
    expect((await reseolio(['migrate', ...migrated.args])).code).toBe(0);

    // Only the migrated file works: each run names it in a different place, the empty one elsewhere.
    const fromOption = await reseolio(['stats', '--json', '--storage', url(migrated)], {
      RESEOLIO_STORAGE: url(empty),
      DATABASE_URL: url(empty),
    });
    expect(fromOption.code).toBe(0);
    expect(parsed(fromOption).functions).toEqual([]);
    const fromReseolioStorage = await reseolio(['stats', '--json'], {
      RESEOLIO_STORAGE: url(migrated),
      DATABASE_URL: url(empty),
    });
    expect(fromReseolioStorage.code).toBe(0);
    const fromDatabaseUrl = await reseolio(['stats', '--json'], { DATABASE_URL: url(migrated) });
    expect(fromDatabaseUrl.code).toBe(0);
    const wrongOne = await reseolio(['stats', '--json'], {
      RESEOLIO_STORAGE: url(empty),
      DATABASE_URL: url(migrated),
    });
    expect(wrongOne.code).toBe(1);
    expect(wrongOne.stderr).toContain('no Reseolio tables yet: run `reseolio migrate`');
  });
});
