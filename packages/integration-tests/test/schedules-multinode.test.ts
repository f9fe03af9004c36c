/**
 * Schedules on several nodes: every tick makes exactly one job whatever the number of engines
 * and processes, and a tick whose claim dies with its process is fired by another node.
 * These run in real time (a seconds schedule), and wait on the database's state, never on a
 * duration.
 */
import pg from 'pg';
import type { Reseolio, StorageAdapter } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { startFixture } from './child-process.ts';
import { engineOn, freshPostgresSchema, onCleanup, sqliteUrl, waitFor } from './helpers.ts';

const FUNCTION = 'schedule:tick';
const TICKS = 30;
const SECOND = 1_000;

/** An engine in this process that runs the schedule's function. */
async function localNode(storage: string | StorageAdapter): Promise<Reseolio> {
  const engine = engineOn(storage);
  engine.durable(FUNCTION, async () => process.pid);
  await engine.start();
  return engine;
}

/**
 * Declares a seconds schedule, waits until it has fired `TICKS` ticks, pauses it, and checks
 * that every tick from the first to the last made exactly one job.
 */
async function expectOneJobPerTick(engine: Reseolio, id: string): Promise<void> {
  const declared = await engine.schedule(id, FUNCTION, { cron: '* * * * * *', catchUp: 'all' });
  const first = declared.nextRunAt!.getTime();
  const last = first + (TICKS - 1) * SECOND;
  await waitFor(async () => ((await engine.getSchedule(id))!.lastRunAt?.getTime() ?? 0) >= last, {
    timeoutMs: (TICKS + 60) * SECOND,
    what: `${TICKS} ticks of ${id}`,
  });
  await engine.pauseSchedule(id);
  const jobs = await engine.listJobs({ scheduleId: id, limit: 1000 });
  const ticks = jobs
    .map((job) => job.runAt.getTime())
    .filter((tick) => tick <= last)
    .sort((a, b) => a - b);
  expect(ticks).toEqual(Array.from({ length: TICKS }, (_, i) => first + i * SECOND));
}

describe('schedules on several nodes', () => {
  it(`four engines in three processes on one PostgreSQL make one job per tick for ${TICKS} ticks`, async () => {
    const database = freshPostgresSchema();
    const main = await localNode(database.open());
    await localNode(database.open());
    const children = [0, 1].map(() =>
      startFixture('schedule-node.mjs', ['postgres', database.connectionString, database.schema]),
    );
    for (const child of children) await child.waitForLine(/^ready$/, 60_000);
    await expectOneJobPerTick(main, 'multi-node:postgres');
  }, 180_000);

  it(`three engines in three processes on one SQLite file make one job per tick for ${TICKS} ticks`, async () => {
    const url = sqliteUrl();
    const file = url.slice('sqlite:'.length);
    const main = await localNode(url);
    const children = [0, 1].map(() => startFixture('schedule-node.mjs', ['sqlite', file]));
    for (const child of children) await child.waitForLine(/^ready$/, 60_000);
    await expectOneJobPerTick(main, 'multi-node:sqlite');
  }, 180_000);

  it('a tick claimed by a process killed before its commit is fired by another node, once', async () => {
    const database = freshPostgresSchema();
    const admin = new pg.Client({ connectionString: database.connectionString });
    await admin.connect();
    onCleanup(() => admin.end());
    // Declared by a node that does not run the function: nothing fires yet.
    const declaring = engineOn(database.open(), { workerConcurrency: 0 });
    const declared = await declaring.schedule('crash:tick', FUNCTION, {
      cron: '* * * * * *',
      catchUp: 'all',
    });
    const q = (text: string) => `"${database.schema}".${text}`;
    // The first job insert of this schema sleeps inside its transaction: after the tick's
    // compare-and-set, before the commit. A sequence counts, since it ignores rollbacks.
    await admin.query(`
      CREATE SEQUENCE ${q('stall_once')};
      CREATE FUNCTION ${q('stall_first_insert')}() RETURNS trigger AS $$
      BEGIN
        IF nextval('${q('stall_once')}') = 1 THEN PERFORM pg_sleep(120); END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER stall BEFORE INSERT ON ${q('jobs')}
        FOR EACH ROW EXECUTE FUNCTION ${q('stall_first_insert')}();
    `);
    // A backend asleep in a query notices its client is gone only if it checks: with this
    // setting it does, as an idle-in-transaction backend of a crashed process does at once.
    const checked = new URL(database.connectionString);
    checked.searchParams.set('options', '-c client_connection_check_interval=100');
    const doomed = startFixture('schedule-node.mjs', ['postgres', checked.href, database.schema]);
    onCleanup(async () => {
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'",
      );
    });
    await doomed.waitForLine(/^ready$/, 60_000);
    await waitFor(
      async () =>
        (
          await admin.query(
            "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query ILIKE '%insert%'",
          )
        ).rowCount === 1,
      { timeoutMs: 30_000, what: 'the doomed node inside its tick transaction' },
    );
    // The claim is not committed: the stored next run is still the tick it claimed.
    const claimed = (await declaring.getSchedule('crash:tick'))!.nextRunAt!.getTime();
    expect(claimed).toBeGreaterThanOrEqual(declared.nextRunAt!.getTime());
    doomed.child.kill('SIGKILL');
    await doomed.exited;

    const survivor = await localNode(database.open());
    await waitFor(
      async () =>
        ((await survivor.getSchedule('crash:tick'))!.lastRunAt?.getTime() ?? 0) >=
        claimed + 2 * SECOND,
      { timeoutMs: 60_000, what: 'the survivor firing the claimed tick and two more' },
    );
    await survivor.pauseSchedule('crash:tick');
    const runs = (await survivor.listJobs({ scheduleId: 'crash:tick', limit: 1000 })).map((job) =>
      job.runAt.getTime(),
    );
    expect(runs.filter((tick) => tick === claimed)).toHaveLength(1);
    expect(new Set(runs).size).toBe(runs.length);
  }, 180_000);
});
