import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboard } from '@reseolio/dashboard';
import { type Command, Option } from 'commander';
import { createTokenGate } from '../dashboard-token.ts';
import { CommandFailure, UsageError } from '../exit-codes.ts';
import { integerFrom, parseDuration } from '../format.ts';
import { openStorage } from '../open-storage.ts';
import { output } from '../output.ts';
import { withSession } from '../session.ts';
import { type StorageOptionValues, storageOptions, storageUrlOf } from '../storage-options.ts';

interface DashboardCommandOptions extends StorageOptionValues {
  port: number;
  host: string;
  public?: boolean;
  token?: string;
  readOnly?: boolean;
  title?: string;
  stuckAfter?: number;
  migrate?: boolean;
}

/** PostgreSQL connections: the overview reads three things at once, and several tabs may poll. */
const DASHBOARD_POOL = { poolSize: 4 };

/** The environment variable the token may come from, to keep it out of `ps` and shell history. */
export const TOKEN_ENV = 'RESEOLIO_DASHBOARD_TOKEN';

export function dashboardCommand(program: Command): void {
  storageOptions(
    program
      .command('dashboard')
      .summary('serve the web dashboard on a storage')
      .description(
        'Serves the Reseolio dashboard (jobs, attempts, sagas, schedules, and actions on them) ' +
          'over HTTP until Ctrl+C or SIGTERM. It runs no jobs and never migrates unless ' +
          '--migrate is given (a SQLite file without any Reseolio table yet gets them). It shows job arguments and results and can retry and cancel ' +
          `work, so it needs a token (--token, or $${TOKEN_ENV}) unless --public says anyone ` +
          'who can reach the port may use it.',
      )
      .option('--port <n>', 'TCP port; 0 picks a free one', integerFrom(0, 65535), 4000)
      .option('--host <address>', 'address to listen on', '127.0.0.1')
      .addOption(
        new Option('--token <secret>', `require this token (default: $${TOKEN_ENV})`).conflicts(
          'public',
        ),
      )
      .option('--public', 'serve without a token, to anyone who can reach the port')
      .option('--read-only', 'hide and refuse every action (retry, cancel, signal, pause…)')
      .option('--title <text>', 'the page title (default: Reseolio)')
      .option(
        '--stuck-after <duration>',
        'alert when the oldest pending job of a function waited longer (default: 5m)',
        parseDuration,
      )
      .option('--migrate', "apply Reseolio's pending migrations first, as `reseolio migrate` does"),
  )
    .addHelpText(
      'after',
      `
The page is at http://<host>:<port>/. With a token, open http://<host>:<port>/?token=<token>
once: the browser gets an HttpOnly cookie and the token leaves the address bar. Scripts send
Authorization: Bearer <token>.

Examples:
  $ ${TOKEN_ENV}=$(openssl rand -hex 16) reseolio dashboard --storage postgres://app@db:5432/app
  $ reseolio dashboard --storage sqlite:./reseolio.db --public --read-only
  $ reseolio dashboard --port 0 --host 0.0.0.0 --token s3cret`,
    )
    .action(async (options: DashboardCommandOptions) => {
      const token = options.public ? undefined : (options.token ?? process.env[TOKEN_ENV]);
      if (!options.public && (token === undefined || token === '')) {
        throw new UsageError(
          'The dashboard shows job arguments and results and can act on jobs: pass --token ' +
            `<secret> (or set ${TOKEN_ENV}) to require a token, or --public to serve it to ` +
            'anyone who can reach the port.',
        );
      }
      if (options.migrate || (await isFreshSqlite(options))) await migrate(options);
      await withSession(
        options,
        async ({ engine }) => {
          const dashboard = createDashboard({
            instance: engine,
            // The token gate below decides who gets in.
            public: true,
            readOnly: options.readOnly === true,
            ...(options.title === undefined ? {} : { title: options.title }),
            ...(options.stuckAfter === undefined ? {} : { stuckAfterMs: options.stuckAfter }),
          });
          const server = createServer();
          const gate =
            token === undefined
              ? undefined
              : createTokenGate(
                  token,
                  () => `reseolio_dashboard_${(server.address() as AddressInfo).port}`,
                );
          server.on('request', (req, res) => {
            if (gate !== undefined && !gate.admit(req, res)) return;
            void dashboard.handle(req, res, req.url ?? '/');
          });
          const url = await listen(server, options.port, options.host);
          output.text(`Reseolio dashboard: ${url}`);
          output.note(
            token === undefined
              ? 'Public: anyone who can reach this address can use it. Ctrl+C stops it.'
              : `Open ${url}?token=<your token> once in a browser, or send Authorization: Bearer <token>. Ctrl+C stops it.`,
          );
          await stopped(server);
        },
        DASHBOARD_POOL,
      );
    });
}

/** Listens, resolving the URL with the address and port actually bound. */
async function listen(server: Server, port: number, host: string): Promise<string> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CommandFailure(
      code === 'EADDRINUSE'
        ? `Port ${port} on ${host} is in use: pass another --port (0 picks a free one).`
        : `Cannot listen on ${host}:${port}: ${(error as Error).message}`,
    );
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}/`;
}

/**
 * Resolves once SIGINT or SIGTERM has closed the server. Open connections (keep-alive, the
 * page's live updates) are closed too: they would hold `close()` open forever. The session
 * then stops the engine and closes the storage, and the command exits 0.
 */
async function stopped(server: Server): Promise<void> {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const signal = new Promise<void>((resolve) => {
    for (const name of signals) process.once(name, () => resolve());
  });
  await signal;
  for (const name of signals) process.removeAllListeners(name);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/**
 * Whether the storage is a SQLite file with no Reseolio table at all: a fresh directory, where
 * `npx reseolio dashboard --storage sqlite:./reseolio.db` should simply show an empty
 * dashboard. Creating tables from nothing in a local file changes no one's schema; an existing
 * schema (even one migration behind) and every PostgreSQL database still need
 * `reseolio migrate` or `--migrate`, so a production schema is never upgraded unasked.
 */
async function isFreshSqlite(options: DashboardCommandOptions): Promise<boolean> {
  const url = storageUrlOf(options);
  if (!url.startsWith('sqlite:')) return false;
  const storage = await openStorage(url, { schema: options.schema });
  try {
    const fresh = (await storage.migrationStatus()).applied === 0;
    if (fresh) output.note("A new SQLite file: creating Reseolio's tables in it.");
    return fresh;
  } finally {
    await storage.close();
  }
}

async function migrate(options: DashboardCommandOptions): Promise<void> {
  const storage = await openStorage(storageUrlOf(options), {
    schema: options.schema,
    migrate: true,
  });
  try {
    await storage.init();
  } finally {
    await storage.close();
  }
}
