import type { Command } from 'commander';
import { Reseolio } from 'reseolio';
import type { MigrationStatus } from 'reseolio/storage';
import { EXIT } from '../exit-codes.ts';
import { formatDuration, parseDuration } from '../format.ts';
import { type CliStorage, openStorage } from '../open-storage.ts';
import { output, styled } from '../output.ts';
import { type StorageOptionValues, storageOptions, storageUrlOf } from '../storage-options.ts';

interface DoctorOptions extends StorageOptionValues {
  stuckAfter: number;
  json?: boolean;
}

type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of the report; also an element of `checks` in the `--json` output. */
interface Check {
  name: 'connectivity' | 'migrations' | 'clock' | 'expired leases' | 'overdue jobs';
  status: CheckStatus;
  message: string;
}

/** A clock further than this from the database's is reported (the engine logs it too). */
const SKEW_WARN_MS = 1000;
/** How many job ids or function names a finding lists. */
const SHOWN = 5;

export function doctorCommand(program: Command): void {
  storageOptions(
    program
      .command('doctor')
      .summary('check a storage: connectivity, migrations, clock, stuck jobs')
      .description(
        "Checks that the storage is reachable, that its migrations match this version's, that " +
          "this machine's clock agrees with the database's (PostgreSQL), and that no job is " +
          'stuck: running with a lease that expired longer than --stuck-after ago (no worker ' +
          'took it back), or due longer than --stuck-after ago and still not started (no ' +
          'worker runs its function, or too few do). Exits 0 when healthy, 3 when there are ' +
          'only warnings, 1 when a check failed.',
      ),
  )
    .option(
      '--stuck-after <duration>',
      'how late a job may be before it counts as stuck (90s, 5m, 2h)',
      parseDuration,
      5 * 60_000,
    )
    .option('--json', 'print the checks as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ reseolio doctor
  $ reseolio doctor --stuck-after 15m --json | jq '.checks[] | select(.status != "ok")'`,
    )
    .action(async (options: DoctorOptions) => {
      const checks = await runChecks(options);
      const worst = checks.some((c) => c.status === 'fail')
        ? 'fail'
        : checks.some((c) => c.status === 'warn')
          ? 'warn'
          : 'ok';
      if (options.json) {
        output.json({ status: worst, checks });
      } else {
        const label = { ok: 'green', warn: 'yellow', fail: 'red', skip: 'dim' } as const;
        for (const check of checks) {
          output.text(
            `${styled(label[check.status], check.status.padEnd(4))}  ${check.name.padEnd(14)}  ${check.message}`,
          );
        }
      }
      process.exitCode =
        worst === 'fail' ? EXIT.failure : worst === 'warn' ? EXIT.warnings : EXIT.ok;
    });
}

async function runChecks(options: DoctorOptions): Promise<Check[]> {
  const storage = await openStorage(storageUrlOf(options), { schema: options.schema });
  const checks: Check[] = [];
  try {
    const started = performance.now();
    let status: MigrationStatus;
    try {
      status = await storage.migrationStatus();
    } catch (error) {
      checks.push({ name: 'connectivity', status: 'fail', message: (error as Error).message });
      return checks;
    }
    const tookMs = performance.now() - started;
    checks.push({
      name: 'connectivity',
      status: 'ok',
      message: `${storage.kind} storage answered in ${formatDuration(tookMs)}`,
    });
    const migrations = migrationsCheck(status);
    checks.push(migrations);
    checks.push(await clockCheck(storage));
    if (migrations.status === 'fail' || status.pending.length > 0) {
      const message = 'not checked: the tables are not fully migrated';
      checks.push({ name: 'expired leases', status: 'skip', message });
      checks.push({ name: 'overdue jobs', status: 'skip', message });
      return checks;
    }
    checks.push(...(await jobChecks(storage, options.stuckAfter)));
    return checks;
  } finally {
    await storage.close();
  }
}

function migrationsCheck(status: MigrationStatus): Check {
  const { shipped, applied, pending } = status;
  if (applied === 0) {
    return {
      name: 'migrations',
      status: 'fail',
      message: 'no Reseolio tables: run `reseolio migrate` (or start an app on this storage)',
    };
  }
  if (pending.length > 0) {
    return {
      name: 'migrations',
      status: 'warn',
      message:
        `${pending.length} of ${shipped} pending (${pending.map((m) => m.tag).join(', ')}): run ` +
        '`reseolio migrate`, or start an app on this version',
    };
  }
  if (applied > shipped) {
    return {
      name: 'migrations',
      status: 'warn',
      message:
        `${applied} applied, ${applied - shipped} more than this CLI knows: a newer Reseolio ` +
        'migrated this storage; upgrade @reseolio/cli',
    };
  }
  return { name: 'migrations', status: 'ok', message: `all ${shipped} applied` };
}

/**
 * This machine's clock against the database's, halfway through the round trip. The engine
 * corrects for it, so it only warns: a large skew means a host's time sync is broken.
 */
async function clockCheck(storage: CliStorage): Promise<Check> {
  if (storage.currentTime === undefined) {
    return {
      name: 'clock',
      status: 'skip',
      message: `${storage.kind} has no clock of its own: every process reads its machine's`,
    };
  }
  const before = Date.now();
  const databaseNow = await storage.currentTime();
  const after = Date.now();
  const skewMs = Math.round(databaseNow - (before + after) / 2);
  const side = skewMs > 0 ? 'behind' : 'ahead of';
  const message = `this machine's clock is ${formatDuration(Math.abs(skewMs))} ${side} the database's (round trip ${after - before}ms)`;
  return { name: 'clock', status: Math.abs(skewMs) > SKEW_WARN_MS ? 'warn' : 'ok', message };
}

/** Jobs stuck past `stuckAfterMs`: expired leases nobody took back, and due jobs not started. */
async function jobChecks(storage: CliStorage, stuckAfterMs: number): Promise<Check[]> {
  const engine = new Reseolio({ storage, workerConcurrency: 0 });
  try {
    const stats = await engine.stats();
    const now = stats.at.getTime();
    const expired = await storage.listExpiredLeases({ now: now - stuckAfterMs, limit: 1000 });
    const after = formatDuration(stuckAfterMs);
    const leases: Check =
      expired.length === 0
        ? { name: 'expired leases', status: 'ok', message: `none expired over ${after} ago` }
        : {
            name: 'expired leases',
            status: 'warn',
            message:
              `${expired.length === 1000 ? 'at least 1000' : expired.length} running job(s) lost their lease over ${after} ago and no worker took them back ` +
              `(is a worker of ${listed([...new Set(expired.map((j) => j.name))])} running?): ${listed(expired.map((j) => j.id))}`,
          };
    const late = stats.functions.filter(
      (f) => f.oldestPendingAgeMs !== null && f.oldestPendingAgeMs > stuckAfterMs,
    );
    const overdue: Check =
      late.length === 0
        ? { name: 'overdue jobs', status: 'ok', message: `no due job waiting over ${after}` }
        : {
            name: 'overdue jobs',
            status: 'warn',
            message: `due jobs waiting over ${after} (are enough workers running?): ${listed(
              late.map((f) => `${f.name} ${formatDuration(f.oldestPendingAgeMs!)}`),
            )}`,
          };
    return [leases, overdue];
  } finally {
    await engine.stop();
  }
}

/** The first few items, and how many more. */
function listed(items: readonly string[]): string {
  const shown = items.slice(0, SHOWN).join(', ');
  return items.length > SHOWN ? `${shown} and ${items.length - SHOWN} more` : shown;
}
