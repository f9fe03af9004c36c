import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newJob, pendingRecord, recordEvents, T0 } from '@reseolio/storage-contract';
import Database from 'better-sqlite3';
import { desc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { ReseolioError } from 'reseolio';
import type { NewJob } from 'reseolio/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStorage, MIGRATIONS_TABLE, type SqliteStorage } from '../src/index.ts';
import { migrate } from '../src/migrate.ts';
import { jobs as jobsTable } from '../src/schema.ts';
import { prepareStatements } from '../src/statements.ts';
import { buildPackage, exited, lineFrom, startFixture } from './child-process.ts';
import { useCleanups } from './cleanups.ts';
import { scheduleDeclaration } from './schedule-declaration.ts';

const { cleanups, tempFile } = useCleanups();

async function open(filename: string): Promise<SqliteStorage> {
  const storage = createSqliteStorage({ filename });
  cleanups.push(() => storage.close());
  await storage.init();
  return storage;
}

/** The migrations the package ships (drizzle-kit's journal), in order. */
const JOURNAL = (
  JSON.parse(readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as {
    entries: { tag: string }[];
  }
).entries;

/** How many migrations the package ships: each applied exactly once. */
const SHIPPED_MIGRATIONS = JOURNAL.length;

/**
 * A database as a release before `migration` left it: the migrations before it, applied and
 * recorded as src/migrate.ts applies them.
 */
function databaseBefore(filename: string, migration: string): Database.Database {
  const migrations = readMigrationFiles({
    migrationsFolder: fileURLToPath(new URL('../drizzle', import.meta.url)),
  });
  const before = JOURNAL.findIndex((entry) => entry.tag === migration);
  expect(before).toBeGreaterThan(0);
  const db = new Database(filename);
  db.exec(
    `CREATE TABLE "${MIGRATIONS_TABLE}" (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC)`,
  );
  const record = db.prepare(`INSERT INTO "${MIGRATIONS_TABLE}" (hash, created_at) VALUES (?, ?)`);
  for (const applied of migrations.slice(0, before)) {
    for (const statement of applied.sql) if (statement.trim() !== '') db.exec(statement);
    record.run(applied.hash, applied.folderMillis);
  }
  return db;
}

/** Inserts `job` pending as an older release did: before 0004, without `schedule_id`. */
function insertPending(
  db: Database.Database,
  job: NewJob,
  { withScheduleId }: { withScheduleId: boolean },
): void {
  const [column, value] = withScheduleId ? [', schedule_id', ', @scheduleId'] : ['', ''];
  db.prepare(
    `INSERT INTO reseolio_jobs (id, name, status, args, policy, attempt, max_attempts,
      idempotency_key, parent_id${column}, created_at, run_at)
     VALUES (@id, @name, 'pending', @args, @policy, 0, @maxAttempts, @idempotencyKey,
      @parentId${value}, @createdAt, @runAt)`,
  ).run(job);
}

describe('SqliteStorage', () => {
  it('records its migrations in __reseolio_migrations, not the host app’s drizzle table', async () => {
    const filename = tempFile();
    await open(filename);
    const db = new Database(filename, { readonly: true });
    const tables = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .pluck()
      .all();
    const applied = db.prepare(`SELECT hash, created_at FROM "${MIGRATIONS_TABLE}"`).all();
    db.close();
    expect(MIGRATIONS_TABLE).toBe('__reseolio_migrations');
    expect(tables).toEqual([
      '__reseolio_migrations',
      'reseolio_events',
      'reseolio_jobs',
      'reseolio_listeners',
      'reseolio_schedules',
      'reseolio_signals',
      'reseolio_steps',
    ]);
    expect(applied).toHaveLength(SHIPPED_MIGRATIONS);
  });

  it('plans claims and sweeps on the partial indexes, with no statistics gathered', async () => {
    const filename = tempFile();
    await open(filename);
    const db = new Database(filename);
    cleanups.push(() => void db.close());
    const statements = prepareStatements(db);
    const plan = (sql: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(
          sql.includes('@names')
            ? {
                names: '["a"]',
                now: T0,
                limit: 10,
                ownerId: 'w',
                leaseToken: 't',
                leaseExpiresAt: T0,
              }
            : { now: T0, limit: 10 },
        )
        .map((row) => (row as { detail: string }).detail)
        .join(' | ');
    // Without the pin, SQLite picked the (name, key) index: every job of that name, sorted.
    // One range of the claimable index (pending and waiting jobs), read in run_at order.
    expect(plan(statements.claim.source)).toMatch(
      /SEARCH reseolio_jobs USING (COVERING )?INDEX reseolio_jobs_claimable_idx \(run_at<\?\)/,
    );
    expect(plan(statements.claim.source)).not.toMatch(/TEMP B-TREE/);
    expect(plan(statements.listExpiredLeases.source)).toMatch(
      /USING (COVERING )?INDEX reseolio_jobs_running_lease_idx/,
    );
    expect(plan(statements.listExpiredLeases.source)).not.toMatch(/TEMP B-TREE/);
    // Due schedules: one range of the partial due index per name (the few due rows are sorted).
    expect(plan(statements.listDueSchedules.source)).toMatch(
      /USING (COVERING )?INDEX reseolio_schedules_due_idx/,
    );
    expect(
      db
        .prepare(`EXPLAIN QUERY PLAN ${statements.nextScheduleRunAt.source}`)
        .all('["a"]')
        .map((row) => (row as { detail: string }).detail)
        .join(' | '),
    ).toMatch(/USING (COVERING )?INDEX reseolio_schedules_due_idx/);
    // A topic's oldest unconsumed signal, and a suspension's check for one: the partial
    // unconsumed index, in id order.
    const signalPlan = (sql: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all({ id: 'j', topic: 't', now: T0 })
        .map((row) => (row as { detail: string }).detail)
        .join(' | ');
    for (const statement of [statements.consumeSignal, statements.hasSignal]) {
      expect(signalPlan(statement.source)).toMatch(
        /USING (COVERING )?INDEX reseolio_signals_unconsumed_idx \(job_id=\? AND topic=\?\)/,
      );
      expect(signalPlan(statement.source)).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('lists a schedule’s runs newest first on the schedule index, without sorting', async () => {
    const storage = await open(tempFile());
    const jobs = [T0, T0 + 1, T0 + 2].map((createdAt) =>
      newJob({ scheduleId: 's:runs', createdAt }),
    );
    await storage.enqueueMany([...jobs, newJob()]);
    const listed = await storage.listJobs({ scheduleId: 's:runs' });
    expect(listed.map((job) => job.id)).toEqual(jobs.map((job) => job.id).reverse());
    // The query listJobs builds, planned on a migrated database with no statistics.
    const db = new Database(':memory:');
    cleanups.push(() => void db.close());
    migrate(db);
    const query = drizzle({ client: db })
      .select()
      .from(jobsTable)
      .where(eq(jobsTable.scheduleId, 's:runs'))
      .orderBy(desc(jobsTable.id))
      .limit(100)
      .offset(0)
      .toSQL();
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
      .all(...query.params)
      .map((row) => (row as { detail: string }).detail)
      .join(' | ');
    expect(plan).toMatch(/USING INDEX reseolio_jobs_schedule_idx/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
  });

  it('upgrades a database made before schedules: its jobs get a null scheduleId', async () => {
    const filename = tempFile();
    const db = databaseBefore(filename, '0004_schedules');
    const job = newJob({ idempotencyKey: 'before-schedules' });
    insertPending(db, job, { withScheduleId: false });
    db.close();

    const storage = await open(filename);
    expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
    expect(await storage.listJobs({ name: job.name })).toEqual([pendingRecord(job)]);
    expect(await storage.listJobs({ scheduleId: 's:any' })).toEqual([]);
    // The old job still deduplicates, and schedules work on the upgraded file.
    const again = await storage.enqueue({
      ...newJob({ name: job.name }),
      idempotencyKey: job.idempotencyKey,
    });
    expect(again).toEqual({ job: pendingRecord(job), deduplicated: true });
    const { created } = await storage.upsertSchedule(
      scheduleDeclaration({ id: 's:upgraded', name: job.name }),
    );
    expect(created).toBe(true);
    const check = new Database(filename, { readonly: true });
    cleanups.push(() => void check.close());
    expect(check.prepare(`SELECT count(*) FROM "${MIGRATIONS_TABLE}"`).pluck().get()).toBe(
      SHIPPED_MIGRATIONS,
    );
  });

  it('upgrades a database made before workflows: its jobs still claim, and can wait after', async () => {
    const filename = tempFile();
    const db = databaseBefore(filename, '0005_workflows');
    const job = newJob({ idempotencyKey: 'before-workflows' });
    insertPending(db, job, { withScheduleId: true });
    db.close();

    const storage = await open(filename);
    expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
    expect(await storage.listJobs({ name: job.name })).toEqual([pendingRecord(job)]);
    const claim = (now: number) =>
      storage.claim({
        names: [job.name],
        ownerId: 'w',
        leaseToken: `t${now}`,
        limit: 10,
        now,
        leaseExpiresAt: now + 30_000,
      });
    const [claimed] = await claim(job.runAt);
    expect(claimed).toMatchObject({ id: job.id, status: 'running', waitingFor: null });
    // Waits for a signal on the upgraded file, and a signal wakes it.
    const fence = { id: job.id, leaseToken: claimed!.leaseToken! };
    await storage.recordStep({ ...fence, key: 'step:a#0', value: '1', now: T0 + 1 });
    expect(
      await storage.ack({
        ...fence,
        kind: 'suspend',
        attempt: 0,
        runAt: T0 + 60_000,
        waitingFor: '{"kind":"signal"}',
        wake: { kind: 'signal', topic: 'go' },
        now: T0 + 1,
      }),
    ).toBe(true);
    expect(await storage.getJob(job.id)).toMatchObject({
      status: 'waiting',
      waitingFor: '{"kind":"signal"}',
    });
    expect(await claim(T0 + 2)).toEqual([]);
    const signal = { id: job.id, jobId: job.id, topic: 'go', payload: '1', idempotencyKey: null };
    expect(await storage.signal({ ...signal, now: T0 + 3 })).toEqual({
      status: 'stored',
      woke: true,
    });
    expect(await claim(T0 + 3)).toMatchObject([{ id: job.id, attempt: 1 }]);
    expect(await storage.listSteps(job.id)).toEqual([
      { key: 'step:a#0', value: '1', createdAt: T0 + 1 },
    ]);
  });

  it('sets WAL, busy_timeout and synchronous=NORMAL on the connection', async () => {
    const database = new Database(tempFile());
    cleanups.push(() => void database.close());
    const storage = createSqliteStorage({ database, busyTimeoutMs: 1234 });
    await storage.init();
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.pragma('busy_timeout', { simple: true })).toBe(1234);
    // 1 = NORMAL
    expect(database.pragma('synchronous', { simple: true })).toBe(1);
    await storage.close();
  });

  it('leaves a borrowed database open on close', async () => {
    const database = new Database(tempFile());
    cleanups.push(() => void database.close());
    const storage = createSqliteStorage({ database });
    await storage.init();
    await storage.enqueue(newJob());
    await storage.close();
    expect(database.open).toBe(true);
    expect(database.prepare('SELECT count(*) FROM reseolio_jobs').pluck().get()).toBe(1);
  });

  it('throws a ReseolioError on every call after close, and close twice is harmless', async () => {
    const storage = await open(tempFile());
    await storage.close();
    await storage.close();
    await expect(storage.getJob('x')).rejects.toMatchObject({
      code: 'RESEOLIO_INVALID_STATE',
      message: expect.stringMatching(/closed/),
    });
    await expect(storage.enqueue(newJob())).rejects.toBeInstanceOf(ReseolioError);
    await expect(storage.init()).rejects.toBeInstanceOf(ReseolioError);
  });

  it('throws a ReseolioError when used before init', async () => {
    const storage = createSqliteStorage({ filename: tempFile() });
    cleanups.push(() => storage.close());
    await expect(storage.getJob('x')).rejects.toMatchObject({ code: 'RESEOLIO_INVALID_STATE' });
  });

  it('rejects options without a filename or database, and a negative busy timeout', () => {
    expect(() => createSqliteStorage({})).toThrow(/filename/);
    expect(() => createSqliteStorage({ filename: 'x.db', busyTimeoutMs: -1 })).toThrow(
      /busyTimeoutMs/,
    );
  });

  it('refuses a busy timeout that SQLite would wrap to 0, and takes undefined as left out', async () => {
    // PRAGMA busy_timeout is a C int: 2147483648 would read back as 0, no waiting at all.
    expect(() => createSqliteStorage({ filename: 'x.db', busyTimeoutMs: 2 ** 31 })).toThrow(
      'busyTimeoutMs must be an integer from 0 to 2147483647 milliseconds, got 2147483648.',
    );
    const database = new Database(':memory:');
    cleanups.push(() => void database.close());
    const storage = createSqliteStorage({ database, busyTimeoutMs: 2 ** 31 - 1 });
    cleanups.push(() => storage.close());
    await storage.init();
    expect(database.pragma('busy_timeout', { simple: true })).toBe(2 ** 31 - 1);
    const defaults = createSqliteStorage({
      filename: ':memory:',
      busyTimeoutMs: undefined,
      database: undefined,
    });
    cleanups.push(() => defaults.close());
    await defaults.init();
  });

  it('reports multiProcess and crossProcessNotify for files, neither for :memory:', async () => {
    const memory = createSqliteStorage({ filename: ':memory:' });
    cleanups.push(() => memory.close());
    await memory.init();
    expect(memory.capabilities).toEqual({
      crossProcessNotify: false,
      multiProcess: false,
      leasedEnqueue: true,
    });
    const file = await open(tempFile());
    expect(file.capabilities).toEqual({
      crossProcessNotify: true,
      multiProcess: true,
      leasedEnqueue: true,
    });
  });

  it('two instances in one process on the same file hear each other, however the path is spelled', async () => {
    const filename = tempFile();
    const absolute = await open(filename);
    const relativePath = await open(relative(process.cwd(), filename));
    const log = await recordEvents(absolute);
    const job = newJob();
    await relativePath.enqueue(job);
    await log.waitFor({ type: 'ready', name: job.name, runAt: job.runAt });
    await log.unsubscribe();
  });

  it('two :memory: databases do not hear each other', async () => {
    const a = createSqliteStorage({ filename: ':memory:' });
    const b = createSqliteStorage({ filename: ':memory:' });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    await Promise.all([a.init(), b.init()]);
    const heardByA = await recordEvents(a);
    const heardByB = await recordEvents(b);
    const job = newJob();
    await b.enqueue(job);
    await heardByB.waitFor({ type: 'ready', name: job.name, runAt: job.runAt });
    expect(heardByA.events).toEqual([]);
  });

  it('refuses to join a caller transaction', async () => {
    const storage = await open(tempFile());
    await expect(storage.enqueue(newJob(), { transaction: {} })).rejects.toMatchObject({
      code: 'RESEOLIO_STORAGE_CONFIG',
    });
  });
});

describe('several processes on one file', () => {
  // The workers load the built package, as an installed app would.
  beforeAll(buildPackage, 120_000);

  it('three processes running init at once on a new file all succeed', async () => {
    const filename = tempFile();
    const children = [0, 1, 2].map(() => startWorker([filename, 'init']));
    const codes = await Promise.all(children.map((child) => exited(child)));
    expect(codes).toEqual([0, 0, 0]);
    const db = new Database(filename, { readonly: true });
    expect(db.prepare(`SELECT count(*) FROM "${MIGRATIONS_TABLE}"`).pluck().get()).toBe(
      SHIPPED_MIGRATIONS,
    );
    db.close();
  });

  it('three processes claiming 1,200 jobs claim each exactly once and lose none', async () => {
    const filename = tempFile();
    const storage = await open(filename);
    const name = 'multi-process:claim';
    const jobs = Array.from({ length: 1200 }, (_, i) =>
      newJob({ name, createdAt: T0 + i, runAt: T0 }),
    );
    const ids = jobs.map((job) => job.id);
    await storage.enqueueMany(jobs);

    const workers = [0, 1, 2].map((i) => startWorker([filename, 'work', name, `process-${i}`]));
    await Promise.all(workers.map((worker) => lineFrom(worker, (line) => line === 'ready')));
    for (const worker of workers) worker.stdin?.write('go\n');
    const reports = await Promise.all(
      workers.map(async (worker) => {
        const line = await lineFrom(worker, (l) => l.startsWith('{'));
        expect(await exited(worker)).toBe(0);
        return JSON.parse(line) as { claimed: string[]; rejectedAcks: number };
      }),
    );

    const claimed = reports.flatMap((report) => report.claimed);
    expect(reports.map((report) => report.rejectedAcks)).toEqual([0, 0, 0]);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual(ids.sort());
    // Several processes did part of the work, or there was no contention to test. (Not all
    // three: on a loaded machine one may be scheduled only after the others emptied the queue.)
    expect(reports.filter((report) => report.claimed.length > 0).length).toBeGreaterThanOrEqual(2);
    const done = [
      ...(await storage.listJobs({ name, status: 'success', limit: 1_000 })),
      ...(await storage.listJobs({ name, status: 'success', limit: 1_000, offset: 1_000 })),
    ];
    expect(done).toHaveLength(1200);
    expect(done.every((job) => job.attempt === 1)).toBe(true);
  }, 60_000);

  it('three processes firing the same 200 ticks fire each exactly once', async () => {
    const filename = tempFile();
    const storage = await open(filename);
    const [id, name, step, ticks] = ['multi-process:schedule', 'multi-process:tick', 60_000, 200];
    await storage.upsertSchedule(scheduleDeclaration({ id, name }));
    const args = [filename, id, name, String(T0), String(ticks), String(step)];
    const firers = [0, 1, 2].map(() =>
      startFixture('schedule-firer.mjs', args, (cleanup) => cleanups.push(cleanup)),
    );
    await Promise.all(firers.map((firer) => lineFrom(firer, (line) => line === 'ready')));
    for (const firer of firers) firer.stdin?.write('go\n');
    const reports = await Promise.all(
      firers.map(async (firer) => {
        const line = await lineFrom(firer, (l) => l.startsWith('{'));
        expect(await exited(firer)).toBe(0);
        return JSON.parse(line) as { won: number[] };
      }),
    );

    const expected = Array.from({ length: ticks }, (_, i) => T0 + i * step);
    const won = reports.flatMap((report) => report.won);
    expect(won.sort((a, b) => a - b)).toEqual(expected);
    // The jobs carry no idempotency key: a tick claimed twice would have made two.
    const runs = await storage.listJobs({ scheduleId: id, limit: 1_000 });
    expect(runs.map((job) => job.runAt).sort((a, b) => a - b)).toEqual(expected);
    expect(await storage.getSchedule(id)).toMatchObject({
      nextRunAt: T0 + ticks * step,
      lastRunAt: T0 + (ticks - 1) * step,
    });
  }, 60_000);
});

function startWorker(args: string[]): ChildProcess {
  return startFixture('claim-worker.mjs', args, (cleanup) => cleanups.push(cleanup));
}
